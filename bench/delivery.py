"""Deliveries to a department: ticket events per second and the delay from a stub being stored to the department
receiving it, beside a bare HTTPS client in the same run.

The department is tests/deliver/receiver.py (Twisted web over TLS, a certificate authority made for the run,
verification on), in its own process on loopback; it writes each request it gets (with its arrival time) to a
file before answering 200, as a department stores a ticket before it answers.

- baseline: a bare client (http.client, one kept-alive TLS connection) POSTs the same bodies one after another;
- deliverer: N calls' stubs (2N events: created, updated) are stored first, then one sender (`LinkSender`, the
  code `ivr deliver` runs) takes, signs, POSTs and records them until none is left, on each store;
- delay: a real `ivr deliver` process runs while the bench stores the stubs of RATE calls a second (an opening
  stub, then its closing stub) for SECONDS; each event's delay is the receiver's arrival time minus the moment
  `put` returned (the stub durable), on each store. One call's stub is delivered first and not counted: the
  deliverer's start and its TLS handshake are not the steady state.

    .venv/bin/python bench/delivery.py [N] [RATE] [SECONDS]
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.deliver.https import Department as Address
from ivr.deliver.sender import LinkSender
from ivr.rules.model import DataLink, Delivery
from ivr.tickets.open import open_store
from ivr.tickets.store import TicketStore
from ivr.tickets.stub import Stub
from tests.deliver.certificate import make_certificates
from tests.deliver.conftest import SECRET, Department, rules_with_delivery
from tests.tickets.calls import call, stubs_of
from tests.tickets.redisserver import RedisServer

ROOT = Path(__file__).resolve().parents[1]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def calls(count: int, first: int) -> list[tuple[Stub, Stub]]:
    """`count` calls to 12348 (its system is the delivering link), numbered from `first`."""
    pairs = []
    for n in range(first, first + count):
        opening, closing = stubs_of(call(n, "12348", caller="13912345678"))
        ticket = f"12345-20261126-e1-{n:06d}"
        pairs.append((replace(opening, id=ticket), replace(closing, id=ticket)))
    return pairs


def baseline(receiver: Department, bodies: list[bytes]) -> tuple[float, float, float]:
    context = ssl.create_default_context(cafile=str(receiver.certificates.ca))
    connection = http.client.HTTPSConnection("127.0.0.1", receiver.port, context=context)
    latencies = []
    began = time.perf_counter()
    for n, body in enumerate(bodies):
        start = time.perf_counter()
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"bare/{n}"}
        connection.request("POST", "/ivr/tickets", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        latencies.append(time.perf_counter() - start)
    rate = len(bodies) / (time.perf_counter() - began)
    return (rate, *percentiles(latencies))


def throughput(store: TicketStore, receiver: Department, count: int) -> float:
    for opening, closing in calls(count, 1):
        store.put([opening])
        store.put([closing])
    delivery = Delivery(receiver.url, "IVR_SECRET_12348", ca_file=str(receiver.certificates.ca))
    link = DataLink("12348-system", "12348", "12348", delivery)
    sender = LinkSender(link, store.deliveries(), Address(delivery).post, SECRET.encode(), "bench")
    began = time.perf_counter()
    while store.deliveries().counts(["12348-system"])["12348-system"].pending:
        sender.step(time.time())
    return 2 * count / (time.perf_counter() - began)


def delay(
    store: TicketStore, url: str, receiver: Department, folder: Path, rate: int, seconds: int, first: int
) -> list[float]:
    """The stubs of `rate` calls a second stored while `ivr deliver` runs; each event's delay in seconds."""
    env = {**os.environ, "IVR_SECRET_12348": SECRET}
    rules = rules_with_delivery(folder, receiver)
    command = [sys.executable, "-m", "ivr.cli.main", "deliver", "--rules", str(rules), "--store", url]
    with (folder / "deliver.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    stored: dict[str, float] = {}
    try:
        warm_up, *pairs = calls(rate * seconds + 1, first)  # the first event opens the TLS connection: not counted
        store.put([warm_up[0]])
        began = time.monotonic()
        while f"{warm_up[0].id}/0" not in {r["key"] for r in receiver.stored()}:
            assert time.monotonic() < began + 30, "the deliverer did not start"
            time.sleep(0.05)
        began = time.monotonic()
        for n, (opening, closing) in enumerate(pairs):
            time.sleep(max(0.0, began + n / rate - time.monotonic()))
            store.put([opening])
            stored[f"{opening.id}/0"] = time.time()
            store.put([closing])
            stored[f"{closing.id}/1"] = time.time()
        deadline = time.monotonic() + 60
        while not set(stored) <= {r["key"] for r in receiver.stored()}:
            assert time.monotonic() < deadline, "not every event arrived"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(30)
    return [float(r["at"]) - stored[str(r["key"])] for r in receiver.stored() if r["key"] in stored]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        certificates = make_certificates(folder)
        receiver = Department(certificates, folder / "received.jsonl").start()
        (folder / "redis").mkdir()
        server = RedisServer(folder / "redis").start()
        try:
            body = json.dumps({"event": "created", "link": "12348-system", "ticket": calls(1, 1)[0][0].as_json()})
            bodies = [body.encode()] * (2 * count)
            rate_bare, p50, p99 = baseline(receiver, bodies)
            print(f"{2 * count} events of about {len(bodies[0])} bytes")
            print(f"{'baseline: bare client, kept-alive TLS':<44} {rate_bare:8,.0f} posts/s   "
                  f"p50 {p50 * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms")  # fmt: skip
            stores = {
                "SQLite": (f"sqlite:///{folder / 'tickets.db'}", f"sqlite:///{folder / 'delay.db'}"),
                "Redis": (f"{server.url[:-1]}0", f"{server.url[:-1]}1"),
            }
            for run, (store_name, (first, second)) in enumerate(stores.items(), start=1):
                store = open_store(first, environ={})
                events = throughput(store, receiver, count)
                print(f"{'deliverer, ' + store_name + ' store':<44} {events:8,.0f} events/s   "
                      f"({events / rate_bare:.2f} of the baseline)")  # fmt: skip
                later = open_store(second, environ={})
                delays = delay(later, second, receiver, folder, rate, seconds, first=run * 100_000)
                d50, d99 = percentiles(delays)
                print(f"{'delay stored -> received, ' + store_name:<44} {len(delays):8,} events     "
                      f"p50 {d50 * 1000:6.1f} ms   p99 {d99 * 1000:6.1f} ms   ({rate} calls/s)")  # fmt: skip
        finally:
            receiver.stop()
            server.stop()


if __name__ == "__main__":
    main()
