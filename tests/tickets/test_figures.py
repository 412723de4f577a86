"""Today's figures from completed stubs: the definitions of the module docstring, by table."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from ivr.tickets.figures import day_figures, day_query, ratings_by
from ivr.tickets.stub import RouteStep, StubOutcome
from tests.tickets.calls import NOW, ZONE, call, stubs_of

_, BASE = stubs_of(call(1))


def stub(outcome, wait=None, queue="hotline-12345", line="12345", left=False):
    route = (RouteStep(NOW, "ami:abandoned", f"{queue} at position 1 after {wait} s"),) if left else ()
    return replace(BASE, outcome=outcome, queue_wait=wait, queue=queue, line=line, route=route)


def test_queue_and_line_figures():
    stubs = [
        stub(StubOutcome.ANSWERED, 5),
        stub(StubOutcome.ANSWERED, 20),  # answered, but not within 15 s
        stub(StubOutcome.TRANSFERRED, 15, line="12396"),  # a person answered, then passed it on
        stub(StubOutcome.ABANDONED, 40, left=True),
        stub(StubOutcome.INSTRUCTED, 30, left=True),  # the queue let it go (TIMEOUT); the caller heard the end
        stub(StubOutcome.HUNG_UP_IN_PROMPT, None, queue=""),  # never reached a queue
    ]
    day = day_figures(NOW.date(), stubs)
    q = day.queues["hotline-12345"]
    assert (q.offered, q.answered, q.abandoned, q.answered_in_time) == (5, 3, 2, 2)
    assert (q.average_wait, q.longest_wait) == (40 / 3, 40)
    assert (q.service_level, q.connection_rate) == (2 / 5, 3 / 5)
    assert (day.total.offered, day.total.abandoned) == (6, 1), "per line and in all: only the caller who gave up"
    assert {n: (f.offered, f.answered) for n, f in day.lines.items()} == {"12345": (5, 2), "12396": (1, 1)}
    assert list(day.queues) == ["hotline-12345"]


def test_each_stay_asterisk_reported_counts_in_its_queue():
    """A caller who timed out of an expert queue (QueueCallerAbandon, queue_log EXITWITHTIMEOUT) and was answered in
    12345: offered and lost in the expert queue, offered and answered in 12345, as queue_log counts them; the waits
    are each queue's own."""
    route = (
        RouteStep(NOW, "ami:abandoned", "expert-12348 at position 1 after 180 s"),
        RouteStep(NOW, "ami:answered", "hotline-12345 by agent 8001 after 20 s"),
    )
    moved = replace(BASE, outcome=StubOutcome.ANSWERED, queue_wait=200, queue="hotline-12345", route=route)
    day = day_figures(NOW.date(), [moved])
    expert, hotline = day.queues["expert-12348"], day.queues["hotline-12345"]
    assert (expert.offered, expert.answered, expert.abandoned, expert.longest_wait) == (1, 0, 1, 180)
    assert (hotline.offered, hotline.answered, hotline.abandoned, hotline.total_wait) == (1, 1, 0, 20)
    assert hotline.answered_in_time == 0, "20 s in 12345 itself"
    assert (day.total.offered, day.total.answered, day.total.abandoned) == (1, 1, 0), "one call"


def test_no_call_means_no_rate_rather_than_zero():
    day = day_figures(NOW.date(), [])
    assert (day.total.service_level, day.total.connection_rate, day.total.average_wait) == (None, None, None)


def test_today_is_midnight_to_midnight_in_the_rules_zone():
    query = day_query(date(2026, 11, 26), ZONE)
    assert query.since == datetime(2026, 11, 26, tzinfo=ZONE)
    assert query.until - query.since == timedelta(days=1)


def test_only_the_calls_asked_the_rating_question_count_as_asked():
    """As a real Asterisk showed: a transfer and a citizen who hung up in the conversation have a reason for no
    rating but never heard the question (no GET DATA); a hang-up during the question did hear it."""
    base = stub(StubOutcome.ANSWERED)
    conversation = RouteStep(NOW, "queue:hotline-12345 answered-caller-hung-up", "")
    came_back = RouteStep(NOW, "queue:hotline-12345 answered-continue", "")
    stubs = [
        replace(base, rating="satisfied", route=(came_back,)),
        replace(base, rating="not-rated", rating_reason="timed-out", route=(came_back,)),
        replace(base, rating="not-rated", rating_reason="caller-hung-up", route=(came_back,)),
        replace(base, rating="not-rated", rating_reason="caller-hung-up", route=(conversation,)),
        replace(base, rating="not-rated", rating_reason="transferred", route=(conversation,)),
    ]
    found = ratings_by(stubs, "line")["12345"]
    assert (found.asked, found.rated, found.satisfied) == (3, 1, 1)
