"""`/metrics` for Prometheus: a collector that reads the store (and the spool folders) at each scrape.

No metric is kept in this process: several engines and monitors on several hosts write the store, so the store is
the only place that knows the centre, and a restart of `ivr web` loses nothing. Today's counts come from today's
stubs (the same `day_figures` as the wall), so they fall back to zero at midnight in the rules' zone: Prometheus
reads that as a counter reset, which `rate()` and `increase()` handle. They are exported as gauges named
`..._today` for that reason; the session duration histogram resets the same way. The call-back list is a state,
not a count of the day: `ivr_callbacks` is what `ivr callbacks list --all` would list now.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ivr.agi.rating import Rating
from ivr.tickets.callbacks import callback_list
from ivr.tickets.figures import Ratings, day_figures, ratings_by
from ivr.tickets.outbox import LinkCounts
from ivr.tickets.spool import FILE as SPOOL_FILE
from ivr.tickets.store import StoreUnavailable, TicketStore
from ivr.tickets.stub import Stub
from ivr.web.model import STAFF_STATES, Names, callback_counts, stubs_query, today, todays
from ivr.web.view import centre_view

# AGI session lengths: a prompt and a hang-up take seconds, an answered call a queue wait plus the conversation.
SESSION_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
FALLBACK_STEP = "ami:fallback"


class CentreCollector(Collector):
    def __init__(
        self,
        store: TicketStore,
        names: Callable[[], Names],
        spools: Sequence[Path],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.names = names
        self.spools = spools
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now, names = self.clock(), self.names()
        yield spool_depth(self.spools)
        up = GaugeMetricFamily("ivr_store_up", "1 when the ticket store could be read for this scrape")
        try:
            boards = self.store.boards()
            stubs = self.store.find(stubs_query(now, names))
            deliveries = self.store.deliveries().counts(list(names.links))
        except StoreUnavailable:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from centre_metrics(boards, stubs, now, names)
        yield from delivery_metrics(deliveries, now)


def delivery_metrics(deliveries: Mapping[str, LinkCounts], now: float) -> Iterator[Metric]:
    """Each delivering data link's events waiting for the department, parked ones, and how late the oldest is
    (0 when none waits): alert on failed > 0 or the age growing. Pure."""
    pending = GaugeMetricFamily(
        "ivr_delivery_pending", "Ticket events waiting to be delivered, by data link", labels=["link"]
    )
    failed = GaugeMetricFamily(
        "ivr_delivery_failed", "Ticket events parked as failed (ivr deliveries retry), by data link", labels=["link"]
    )
    oldest = GaugeMetricFamily(
        "ivr_delivery_oldest_pending_seconds",
        "Age of the oldest ticket event waiting to be delivered (0: none waits), by data link",
        labels=["link"],
    )
    for link, counts in sorted(deliveries.items()):
        pending.add_metric([link], counts.pending)
        failed.add_metric([link], counts.failed)
        age = now - counts.oldest_pending if counts.oldest_pending is not None else 0.0
        oldest.add_metric([link], max(age, 0.0))
    yield from (pending, failed, oldest)


def centre_metrics(
    boards: Mapping[str, dict[str, Any]], read: Sequence[Stub], now: float, names: Names
) -> Iterator[Metric]:
    """Every metric the store gives, from the completed stubs `stubs_query` reads and the monitors' boards. Pure."""
    stubs = todays(read, now, names.zone)
    view = centre_view(dict(boards), day_figures(today(now, names.zone), stubs), now)

    calls = GaugeMetricFamily(
        "ivr_calls_today", "Calls received today (rules' zone) by original line and outcome", labels=["line", "outcome"]
    )
    counted: dict[tuple[str, str], int] = {}
    for stub in stubs:
        key = (stub.line, stub.outcome.value)
        counted[key] = counted.get(key, 0) + 1
    for (line, outcome), count in sorted(counted.items()):
        calls.add_metric([line, outcome], count)
    yield calls

    fallback = GaugeMetricFamily(
        "ivr_fallback_calls_today",
        "Calls today that the dialplan carried on without the engine (IvrFallback), by original line",
        labels=["line"],
    )
    fell: dict[str, int] = {}
    for stub in stubs:
        if any(step.what == FALLBACK_STEP for step in stub.route):
            fell[stub.line] = fell.get(stub.line, 0) + 1
    for line, count in sorted(fell.items()):
        fallback.add_metric([line], count)
    yield fallback

    yield session_histogram(stubs)
    by_line = ratings_by(stubs, "line")
    yield ratings_metric("ivr_ratings_today", "Satisfaction ratings today by original line", "line", by_line)
    by_agent = ratings_by(stubs, "answered_by")
    yield ratings_metric("ivr_agent_ratings_today", "Satisfaction ratings today by answering agent", "agent", by_agent)
    entries = callback_list(read, names.callbacks, names.numbering, datetime.fromtimestamp(now, names.zone))
    pending = GaugeMetricFamily(
        "ivr_callbacks", "Callers who gave up (as Asterisk confirmed) by call-back state now", labels=["state"]
    )
    for state, count in callback_counts(entries).items():
        pending.add_metric([state], count)
    yield pending

    queue_calls = GaugeMetricFamily(
        "ivr_queue_calls_today",
        "Calls today per queue: offered, answered (by a person), answered_in_time (within 15 s), abandoned",
        labels=["queue", "result"],
    )
    waiting = GaugeMetricFamily("ivr_queue_waiting", "Callers waiting in the queue now", labels=["queue"])
    longest = GaugeMetricFamily(
        "ivr_queue_longest_wait_seconds", "How long the first caller in the queue has waited", labels=["queue"]
    )
    agents = GaugeMetricFamily("ivr_queue_agents", "Queue members now by state", labels=["queue", "state"])
    for q in view["queues"]:
        for result in ("offered", "answered", "answered_in_time", "abandoned"):
            queue_calls.add_metric([q["queue"], result], q["today"][result])
        if q["live"]:
            waiting.add_metric([q["queue"]], len(q["waiting"]))
            longest.add_metric([q["queue"]], q["longest_wait"])
            for state in STAFF_STATES:
                agents.add_metric([q["queue"], state], q["staff"].get(state, 0))
    yield from (queue_calls, waiting, longest, agents)

    link = GaugeMetricFamily(
        "ivr_ami_link_up", "1 while the monitor is logged in to Asterisk's AMI", labels=["monitor"]
    )
    age = GaugeMetricFamily(
        "ivr_ami_board_age_seconds", "Seconds since the monitor last wrote its queue board", labels=["monitor"]
    )
    for monitor in view["monitors"]:
        link.add_metric([monitor["name"]], 1 if monitor["up"] else 0)
        age.add_metric([monitor["name"]], monitor["age"])
    yield from (link, age)
    yield GaugeMetricFamily(
        "ivr_wallboard_live",
        "1 when the live queue figures can be trusted (a monitor wrote a board lately and its AMI link is up)",
        value=0 if view["warning"] else 1,
    )


def ratings_metric(name: str, documentation: str, label: str, found: Mapping[str, Ratings]) -> GaugeMetricFamily:
    """Each rating's count per group, with `not-rated` for the calls asked that got none: asked is their sum."""
    family = GaugeMetricFamily(name, documentation, labels=[label, "rating"])
    for group, r in found.items():
        counts = {
            Rating.SATISFIED: r.satisfied,
            Rating.BASICALLY_SATISFIED: r.basically_satisfied,
            Rating.DISSATISFIED: r.dissatisfied,
            Rating.NOT_RATED: r.asked - r.rated,
        }
        for rating, count in counts.items():
            family.add_metric([group, rating.value], count)
    return family


def session_histogram(stubs: Sequence[Stub]) -> HistogramMetricFamily:
    """The engine's AGI sessions of today, from each stub's receipt to the end of the engine's part (`ended`).
    Stubs without an end (still in progress, or made by a monitor for a call the engine never saw) are left out."""
    lengths = [(s.ended - s.received).total_seconds() for s in stubs if s.ended is not None]
    buckets = [(floatToGoString(b), sum(1 for x in lengths if x <= b)) for b in SESSION_BUCKETS]
    buckets.append(("+Inf", len(lengths)))
    return HistogramMetricFamily(
        "ivr_agi_session_duration_seconds",
        "Length of today's AGI sessions (ticket stub received to ended)",
        buckets=buckets,
        sum_value=sum(lengths),
    )


def spool_depth(spools: Sequence[Path]) -> GaugeMetricFamily:
    """Stubs in each engine's spool file, waiting for the store. The engine empties the file once all of it is
    replayed, so during a replay the stubs already moved still count until it is empty. A folder that does not
    exist (no engine ever ran there) has no sample: a zero would look healthy."""
    depth = GaugeMetricFamily(
        "ivr_spool_stubs", "Ticket stubs in the spool folder waiting for the store", labels=["spool"]
    )
    for folder in spools:
        count = _lines(folder / SPOOL_FILE) if folder.is_dir() else None
        if count is not None:
            depth.add_metric([str(folder)], count)
    return depth


def _lines(path: Path) -> int | None:
    """Complete lines of the spool file: 0 when there is none yet, None when it cannot be read (no sample then,
    rather than a zero that would look healthy)."""
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except FileNotFoundError:
        return 0
    except OSError:
        return None
