"""`/metrics` as Prometheus reads it: the collector's output parsed by prometheus_client's own text parser."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.open import open_store
from ivr.tickets.spool import FILE as SPOOL_FILE
from ivr.tickets.stub import RouteStep, StubOutcome
from ivr.web.metrics import CentreCollector
from tests.tickets.calls import NOW
from tests.web.test_model import GAVE_UP, NAMES, T, board, gave_up, rated, stub


def scrape(store, spools=(), now=T):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CentreCollector(store, lambda: NAMES, list(spools), clock=lambda: now))
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_every_metric_from_the_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    fell_back = stub(4, line="12396", mode="absorbed", outcome=StubOutcome.UNFINISHED, queue="", wait=None)
    stubs = [
        replace(stub(1, wait=5), ended=NOW + timedelta(seconds=42)),
        replace(stub(2, wait=20), ended=NOW + timedelta(seconds=300)),
        replace(stub(3, outcome=StubOutcome.ABANDONED, wait=40), ended=None),  # the engine's session goes on
        replace(fell_back, ended=None),  # a monitor's stub: the engine never had the call
    ]
    store.put(stubs)
    store.add_events([CallEvent("4.1", EventKind.FALLBACK, NOW, detail="queue:hotline-12345")])
    store.put_board("m1", board(waiting=(T - 30,)))
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / SPOOL_FILE).write_text('{"a": 1}\n{"b": 2}\n')
    found = scrape(store, [tmp_path / "spool", tmp_path / "no-engine-here"])

    assert found[("ivr_store_up", ())] == 1
    assert found[("ivr_calls_today", (("line", "12345"), ("outcome", "answered")))] == 2
    assert found[("ivr_calls_today", (("line", "12345"), ("outcome", "abandoned")))] == 1
    assert found[("ivr_calls_today", (("line", "12396"), ("outcome", "unfinished")))] == 1
    assert found[("ivr_fallback_calls_today", (("line", "12396"),))] == 1
    assert found[("ivr_agi_session_duration_seconds_count", ())] == 2, "only sessions that ended"
    assert found[("ivr_agi_session_duration_seconds_sum", ())] == 342
    assert found[("ivr_agi_session_duration_seconds_bucket", (("le", "60.0"),))] == 1
    assert found[("ivr_agi_session_duration_seconds_bucket", (("le", "300.0"),))] == 2
    assert found[("ivr_agi_session_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    q = ("queue", "hotline-12345")
    assert found[("ivr_queue_calls_today", (q, ("result", "offered")))] == 3
    assert found[("ivr_queue_calls_today", (q, ("result", "answered")))] == 2
    assert found[("ivr_queue_calls_today", (q, ("result", "answered_in_time")))] == 1
    assert found[("ivr_queue_calls_today", (q, ("result", "abandoned")))] == 1
    assert found[("ivr_queue_waiting", (q,))] == 1
    assert found[("ivr_queue_longest_wait_seconds", (q,))] == 30
    assert found[("ivr_queue_agents", (q, ("state", "free")))] == 2
    assert found[("ivr_queue_agents", (q, ("state", "unavailable")))] == 0
    assert found[("ivr_ami_link_up", (("monitor", "m1"),))] == 1
    assert found[("ivr_ami_board_age_seconds", (("monitor", "m1"),))] == 1
    assert found[("ivr_wallboard_live", ())] == 1
    assert found[("ivr_spool_stubs", (("spool", str(tmp_path / "spool")),))] == 2
    assert not any(name == "ivr_spool_stubs" and "no-engine-here" in str(labels) for name, labels in found)


def test_link_down_and_stale_boards(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    store.put([stub(1)])
    store.put_board("m1", board(up=False, why="connection lost"))
    found = scrape(store)
    assert (found[("ivr_ami_link_up", (("monitor", "m1"),))], found[("ivr_wallboard_live", ())]) == (0, 0)
    assert found[("ivr_ami_board_age_seconds", (("monitor", "m1"),))] == 1
    assert scrape(store, now=T + 60)[("ivr_wallboard_live", ())] == 0, "not written for a minute"


def test_an_unreadable_store_says_so_and_invents_nothing(tmp_path):
    found = scrape(open_store(f"sqlite:///{tmp_path / 'never-written.db'}"))
    assert found[("ivr_store_up", ())] == 0
    assert not [name for name, _ in found if name.startswith(("ivr_calls", "ivr_queue", "ivr_ami"))]


def test_ratings_of_the_day_and_the_callback_list_now(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    store.put(
        [
            rated(1, "satisfied"),
            rated(2, "dissatisfied", agent="PJSIP/agent2"),
            rated(3, "not-rated", line="12396"),
            rated(4, "satisfied", minutes=-11 * 60),  # yesterday: not today's rating
            gave_up(5, -12 * 60, "13900139000", GAVE_UP),  # yesterday, still due
            gave_up(6, -10, "13700137000", GAVE_UP, RouteStep(NOW, "ami:callback-done", "called by hand")),
            gave_up(7, -3 * 24 * 60, "13600136000", GAVE_UP),  # beyond the call-back window: not read
        ]
    )
    found = scrape(store)

    def line(name, rating):
        return found.get(("ivr_ratings_today", (("line", name), ("rating", rating))))

    def agent(name, rating):
        return found.get(("ivr_agent_ratings_today", (("agent", name), ("rating", rating))))

    assert [line("12345", r) for r in ("satisfied", "basically-satisfied", "dissatisfied", "not-rated")] == [1, 0, 1, 0]
    assert [line("12396", r) for r in ("satisfied", "not-rated")] == [0, 1]
    assert (agent("PJSIP/agent1", "satisfied"), agent("PJSIP/agent1", "not-rated")) == (1, 1)
    assert agent("PJSIP/agent2", "dissatisfied") == 1
    callbacks = {dict(labels)["state"]: value for (name, labels), value in found.items() if name == "ivr_callbacks"}
    assert callbacks == {"due": 1, "waiting": 0, "done": 1, "reached-agent": 0, "duplicate": 0, "not-diallable": 0,
                         "gave-up": 0}  # fmt: skip


def test_each_delivering_link_pending_failed_and_how_late(tmp_path):
    """A parked event and a waiting one of 12348's system, as `ivr deliver` left them."""
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    opening = replace(stub(1), data_link="12348-system", revision=0)
    store.put([opening])
    store.put([replace(opening, revision=1)])
    outbox = store.deliveries()
    first, _ = outbox.take("12348-system", "d1", 10, 10)
    outbox.park(first, "400 Bad Request")
    names = replace(NAMES, links={"12348-system": ("12348公共法律服务系统", "12348 public legal service system")})
    registry = CollectorRegistry(auto_describe=False)
    now = first.written + 90
    registry.register(CentreCollector(store, lambda: names, [], clock=lambda: now))
    text = generate_latest(registry).decode()
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    link = (("link", "12348-system"),)
    assert found[("ivr_delivery_pending", link)] == 1
    assert found[("ivr_delivery_failed", link)] == 1
    assert 89 <= found[("ivr_delivery_oldest_pending_seconds", link)] <= 91
