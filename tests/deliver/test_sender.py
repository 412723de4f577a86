"""A data link's deliveries against real departments (HTTPS receivers on loopback, certificates verified) from both
stores, with the retry clock in the test's hands: accepted, refused, failing then recovering, timing out, down."""

from __future__ import annotations

import random
import time

from ivr.deliver.https import Department as Address
from ivr.deliver.sender import LinkSender
from ivr.rules.model import DataLink, Delivery
from tests.deliver.conftest import SECRET
from tests.tickets.calls import call, numbered, stubs_of

# The retry clock starts at the store's own time (an event's retry time counts from when it was written), then
# moves as the test says.
NOW = time.time()


def link(department, **delivery) -> DataLink:
    settings = {"timeout": 2.0, **delivery}
    found = Delivery(department.url, "IVR_SECRET_12348", ca_file=str(department.certificates.ca), **settings)
    return DataLink("12348-system", "12348公共法律服务系统", "12348 public legal service system", found)


def sender(store, department, **delivery) -> LinkSender:
    data_link = link(department, **delivery)
    assert data_link.delivery is not None
    address = Address(data_link.delivery)
    return LinkSender(data_link, store.deliveries(), address.post, SECRET.encode(), "d1", random.Random(7))


def write_calls(store, count: int, first: int = 1) -> list[str]:
    """`count` calls to 12348, each stored opening then closing: two events each, in that order."""
    ids = []
    for n in range(first, first + count):
        opening, closing = stubs_of(call(n, "12348", caller="13912345678"))
        opening, closing = numbered(opening, n), numbered(closing, n)
        store.put([opening])
        store.put([closing])
        ids.append(opening.id)
    return ids


def run_until_idle(one: LinkSender, now: float = NOW, steps: int = 50) -> float:
    """Steps with the clock moved on by each wait, until nothing is pending; the clock's time then."""
    for _ in range(steps):
        if all(e.failed for e in one.outbox.listing([one.link.id], failed_only=False)):
            return now
        now += one.step(now)
    raise AssertionError(f"still pending: {one.outbox.listing([one.link.id], failed_only=False)}")


def test_each_event_reaches_an_accepting_department_once_in_order_and_signed(store, department):
    receiver = department().start()
    ids = write_calls(store, 5)
    run_until_idle(sender(store, receiver))
    stored = receiver.stored()
    assert [r["key"] for r in stored] == [f"{i}/{rev}" for i in ids for rev in (0, 1)]
    assert [r["event"] for r in stored] == ["created", "updated"] * 5
    assert all(r["signed"] for r in stored) and receiver.duplicates() == {}
    ticket = stored[0]["body"]["ticket"]
    assert ticket["caller"] == "139****5678", "masked unless the link says `caller: full`"
    assert "uniqueid" not in ticket and ticket["line"] == "12348" and ticket["data_link"] == "12348-system"


def test_the_caller_in_full_and_only_the_chosen_events_and_fields(store, department):
    receiver = department().start()
    write_calls(store, 2)
    run_until_idle(
        sender(store, receiver, full_caller=True, events=frozenset({"updated"}), fields=("id", "revision", "caller"))
    )
    stored = receiver.stored()
    assert [r["event"] for r in stored] == ["updated", "updated"]
    assert stored[0]["body"]["ticket"] == {
        "id": stored[0]["body"]["ticket"]["id"],
        "revision": 1,
        "caller": "13912345678",
    }


def test_a_department_answering_500_gets_the_events_again_once_it_recovers(store, department):
    receiver = department().start("--fail", "3")
    ids = write_calls(store, 2)
    one = sender(store, receiver)
    wait = one.step(NOW)
    assert wait >= 0.5, "a 500 waits with backoff"
    pending = one.outbox.listing(["12348-system"], failed_only=False)
    assert pending[0].attempts == 1 and pending[0].error.startswith("500 Internal Server Error")
    run_until_idle(one, NOW + wait)
    assert [r["key"] for r in receiver.stored()] == [f"{i}/{rev}" for i in ids for rev in (0, 1)]
    assert [r["status"] for r in receiver.requests()][:3] == [500, 500, 500]


def test_a_refusal_is_parked_at_once_with_its_line_and_sent_again_on_retry(store, department):
    receiver = department().start("--status", "400")
    write_calls(store, 1)
    one = sender(store, receiver)
    one.step(NOW)
    failed = one.outbox.listing(["12348-system"], failed_only=True)
    assert [(e.event, e.error) for e in failed] == [
        ("created", "400 Bad Request: ticket refused: field 'line' unknown"),
        ("updated", "400 Bad Request: ticket refused: field 'line' unknown"),
    ]
    receiver.stop()
    fixed = department()
    fixed.port, fixed.log = receiver.port, receiver.log
    fixed.start()
    assert one.outbox.retry(["12348-system"], [failed[0].key]) == 1
    run_until_idle(one, NOW + 1)
    assert [r["event"] for r in fixed.stored()] == ["created"]
    assert [(e.event, e.failed) for e in one.outbox.listing(["12348-system"], failed_only=False)] == [("updated", True)]


def test_a_department_that_times_out_is_retried_then_parked_after_the_retry_time(store, department):
    receiver = department().start("--delay", "5")
    write_calls(store, 1)
    one = sender(store, receiver, timeout=1.0, retry_seconds=3600)
    wait = one.step(NOW)
    (first, _) = one.outbox.listing(["12348-system"], failed_only=False)
    assert first.error == "timed out" and not first.failed and wait > 0
    one.step(first.since + 3600)  # past the retry time
    failed = one.outbox.listing(["12348-system"], failed_only=True)
    assert failed and failed[0].error == "not delivered within 1 h; last: timed out"


def test_a_department_down_for_a_minute_gets_everything_when_it_is_back(store, department):
    receiver = department()  # its port refuses connections: nothing listens yet
    ids = write_calls(store, 3)
    one = sender(store, receiver)
    now = NOW
    while now < NOW + 60:
        now += one.step(now)
    pending = one.outbox.listing(["12348-system"], failed_only=False)
    assert pending[0].error == "connection refused" and pending[0].attempts >= 4, "retried during the minute"
    receiver.start()
    run_until_idle(one, now)
    assert [r["key"] for r in receiver.stored()] == [f"{i}/{rev}" for i in ids for rev in (0, 1)]
    assert receiver.duplicates() == {}
