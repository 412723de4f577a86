"""`ivr deliver` as it runs in production: real processes, a real store, a real HTTPS department. Killed in the
middle of a batch and restarted, with a second deliverer beside it, and with the store restarted under it:
afterwards every event was delivered, in order per ticket, signed, and at most the one in flight twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ivr.tickets.open import open_store
from tests.deliver.conftest import SECRET, rules_with_delivery
from tests.deliver.test_sender import write_calls
from tests.tickets.redisserver import DURABLE, RedisServer


def deliverer(rules: Path, store: str, name: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "IVR_SECRET_12348": SECRET}
    log = (folder / f"{name}.log").open("ab")
    command = [sys.executable, "-m", "ivr.cli.main", "deliver", "--rules", str(rules), "--store", store]
    return subprocess.Popen([*command, "--name", name], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def assert_all_delivered_in_order(receiver, ids: list[str], duplicates_at_most: int) -> None:
    stored = receiver.stored()
    keys = [str(r["key"]) for r in stored]
    assert set(keys) == {f"{i}/{rev}" for i in ids for rev in (0, 1)}
    for ticket in ids:  # a ticket's update never arrives before its creation
        assert keys.index(f"{ticket}/0") < keys.index(f"{ticket}/1")
    assert all(r["signed"] for r in stored)
    doubled = sum(n - 1 for n in receiver.duplicates().values())
    print(f"{len(set(keys))} events, {len(stored)} accepted, {doubled} sent twice")  # with -s: the counts of a run
    assert doubled <= duplicates_at_most
    for key in receiver.duplicates():  # a repeat is the first request again: the key makes it harmless
        assert len({json.dumps(r["body"], sort_keys=True) for r in stored if r["key"] == key}) == 1


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


def test_a_deliverer_killed_mid_batch_loses_nothing_and_a_second_one_never_doubles(tmp_path, department):
    receiver = department().start("--delay", "0.03")
    db = tmp_path / "tickets.db"
    store = open_store(f"sqlite:///{db}")
    ids = write_calls(store, 40)
    rules = rules_with_delivery(tmp_path, receiver)
    running = {name: deliverer(rules, f"sqlite:///{db}", name, tmp_path) for name in ("d1", "d2")}
    try:
        wait_for(lambda: len(receiver.stored()) >= 15, what="the first deliveries")
        with sqlite3.connect(db) as read:
            (holder,) = read.execute("SELECT owner FROM delivery_leases WHERE link = '12348-system'").fetchone()
        running[holder].send_signal(signal.SIGKILL)  # in the middle of its batch
        running[holder].wait()
        running[holder] = deliverer(rules, f"sqlite:///{db}", holder, tmp_path)  # as systemd restarts it
        ids += write_calls(store, 10, first=41)
        wait_for(lambda: len({r["key"] for r in receiver.stored()}) == 100, what="every event")
    finally:
        for process in running.values():
            stop(process)
    assert_all_delivered_in_order(receiver, ids, duplicates_at_most=1)  # the one in flight at the kill, if any
    assert store.deliveries().listing(["12348-system"], failed_only=False) == []


def test_the_store_restarted_under_the_deliverer(tmp_path, tmp_path_factory, department):
    receiver = department().start("--delay", "0.02")
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"), extra=DURABLE).start()
    store = open_store(redis_server.url)
    ids = write_calls(store, 20)
    process = deliverer(rules_with_delivery(tmp_path, receiver), redis_server.url, "d1", tmp_path)
    try:
        wait_for(lambda: len(receiver.stored()) >= 10, what="the first deliveries")
        redis_server.kill()
        time.sleep(0.5)
        redis_server.start()
        ids += write_calls(store, 10, first=21)
        wait_for(lambda: len({r["key"] for r in receiver.stored()}) == 60, what="every event")
        stop(process)
    finally:
        stop(process)
        store.close()
        redis_server.stop()
    # An event the department took while Redis went down is recorded once Redis is back, not sent again.
    assert_all_delivered_in_order(receiver, ids, duplicates_at_most=0)
    assert "ticket store is back" in (tmp_path / "d1.log").read_text()


def test_a_changed_delivery_is_followed_without_a_restart(tmp_path, department):
    first, second = department().start(), department().start()
    db = f"sqlite:///{tmp_path / 'tickets.db'}"
    store = open_store(db)
    rules = rules_with_delivery(tmp_path, first)
    process = deliverer(rules, db, "d1", tmp_path)
    try:
        ids = write_calls(store, 2)
        wait_for(lambda: len(first.stored()) == 4, what="the first department's events")
        moved = rules.read_text(encoding="utf-8").replace(first.url, second.url)
        rules.write_text(moved, encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        log = tmp_path / "d1.log"
        wait_for(lambda: f"delivering to {second.url}" in log.read_text(), what="the new delivery followed")
        later = write_calls(store, 2, first=3)
        wait_for(lambda: len(second.stored()) == 4, what="the second department's events")
    finally:
        stop(process)
    assert {r["key"] for r in first.stored()} == {f"{i}/{rev}" for i in ids for rev in (0, 1)}
    assert {r["key"] for r in second.stored()} == {f"{i}/{rev}" for i in later for rev in (0, 1)}
