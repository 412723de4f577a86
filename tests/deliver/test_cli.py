"""`ivr deliveries`: what waits and what failed, per link, no caller number shown; `retry` sends parked ones again."""

from __future__ import annotations

import json

import pytest

from ivr.cli.main import main
from tests.deliver.conftest import rules_with_delivery
from tests.deliver.test_sender import write_calls
from tests.tickets.calls import RULES


def parked(store, count: int) -> list:
    """`count` events of 12348's system taken and parked, as a 400 leaves them; the rest pending."""
    outbox = store.deliveries()
    events = outbox.take("12348-system", "d1", 10, count)
    for event in events:
        outbox.park(event, "400 Bad Request: ticket refused")
    return events


@pytest.fixture
def setup(tmp_path, store, department):
    receiver = department()
    rules = rules_with_delivery(tmp_path, receiver)
    write_calls(store, 2)
    url = store.name if store.name.startswith("redis") else f"sqlite:///{store.path}"
    return rules, url


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_pending_and_failed_are_listed_and_retried(setup, store, capsys):
    rules, url = setup
    first = parked(store, 1)[0]
    code, out, _ = run(capsys, "deliveries", "--rules", str(rules), "--store", url)
    assert code == 1, "something failed"
    assert out.splitlines()[0].split() == ["id", "link", "ticket", "event", "state", "age", "attempts", "last", "error"]
    assert out.splitlines()[-1] == "3 pending, 1 failed"
    assert "400 Bad Request: ticket refused" in out and "13912345678" not in out and "139****" not in out
    code, out, _ = run(capsys, "deliveries", "--rules", str(rules), "--store", url, "--failed", "--json")
    (listed,) = json.loads(out)
    assert (listed["id"], listed["ticket"], listed["event"], listed["state"]) == (
        first.key, first.ticket, "created", "failed",
    )  # fmt: skip
    code, out, _ = run(capsys, "deliveries", "retry", first.key, "--rules", str(rules), "--store", url)
    assert (code, out) == (0, "1 delivery to send again\n")
    code, out, _ = run(capsys, "deliveries", "--rules", str(rules), "--store", url)
    assert code == 0 and out.splitlines()[-1] == "4 pending, 0 failed"


def test_retry_a_whole_link(setup, store, capsys):
    rules, url = setup
    parked(store, 3)
    code, out, _ = run(capsys, "deliveries", "retry", "--link", "12348-system", "--rules", str(rules), "--store", url)
    assert (code, out) == (0, "3 deliveries to send again\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--link", "12315-system"), "'12315-system' is not a data link with a delivery (those: 12348-system)"),
        (("retry",), "retry: name the deliveries (ID ...) or --link NAME"),
        (("12",), "invalid choice: '12' (choose from 'retry')"),
    ],
)
def test_mistakes_are_one_line(setup, capsys, args, message):
    rules, url = setup
    with pytest.raises(SystemExit) as stopped:
        main(["deliveries", *args, "--rules", str(rules), "--store", url])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().endswith(message)


def test_the_shipped_rules_deliver_nothing_yet(capsys):
    assert not any(link.delivery for link in RULES.data_links.values())
    code, out, _ = run(capsys, "deliveries", "--rules", "routing_rules.yaml", "--store", "sqlite:///nowhere.db")
    assert code == 0
    assert out == "no data link has a delivery in routing_rules.yaml: nothing is delivered (docs/delivery.md)\n"
