"""One context per queue, seat and announcement: the static plan's steps, each ending where its fallback begins.

`s,1` tries the destination; `s,failed` is what follows when it failed, so the fallback after a line's engine can
enter either. A Queue or Dial that connects the caller never comes back: without the `c` and `g` options Asterisk
hangs the caller up when the person does, so the steps after it run only when nobody answered. That is the
router's rule (a connect ends the plan, any failure goes on) without reading a status.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ivr.dialplan import names
from ivr.dialplan.conf import Conf
from ivr.rules.model import DAYS, Announcement, OpeningSpan, Queue, Rules, Seat

# Queue(): `t` lets the agent transfer the caller with the blind-transfer key (linkage); the timeout is the fifth
# argument. Every queue of the rules has a fallback, so every Queue() has a timeout.
QUEUE_OPTIONS = "t"


def write_destinations(conf: Conf, rules: Rules) -> None:
    for queue in rules.queues.values():
        _queue(conf, queue)
    for seat in rules.seats.values():
        _seat(conf, seat, rules.timezone)
    for announcement in rules.announcements.values():
        _announcement(conf, announcement)


def _queue(conf: Conf, queue: Queue) -> None:
    conf.section(
        names.destination(queue.name),
        f"{queue.name}: {queue.name_zh} ({queue.name_en}); up to {queue.timeout} s, then {queue.fallback}.",
    )
    conf.exten("s", f"Queue({queue.queue},{QUEUE_OPTIONS},,,{queue.timeout})")
    conf.same(f"Goto({names.destination(queue.fallback)},s,1)", label="failed")


def _seat(conf: Conf, seat: Seat, zone: ZoneInfo) -> None:
    conf.section(
        names.destination(seat.name),
        f"{seat.name}: {seat.name_zh} ({seat.name_en}), open {seat.hours.describe()}; rings {seat.ring_timeout} s, "
        f"then {seat.fallback}.",
    )
    closed = [(f"GotoIfTime({_time_spec(span, zone)}?open)", "") for span in seat.hours.spans]
    if closed:
        closed.append(("Goto(failed)", ""))
    opened = "open" if closed else ""
    dial = f"Dial({seat.dial},{seat.ring_timeout})"
    ring = [(f"Playback({seat.prompt})", opened), (dial, "")] if seat.prompt else [(dial, opened)]
    fallback = f"Goto({names.destination(seat.fallback)},s,1)"
    if seat.unavailable_prompt:
        failed = [(f"Playback({seat.unavailable_prompt})", "failed"), (fallback, "")]
    else:
        failed = [(fallback, "failed")]
    (app, label), *rest = [*closed, *ring, *failed]
    conf.exten("s", app, label=label)
    for app, label in rest:
        conf.same(app, label=label)


def _announcement(conf: Conf, announcement: Announcement) -> None:
    conf.section(names.destination(announcement.name), f"{announcement.name}: the final instruction, then hang up.")
    first, *rest = announcement.prompts
    conf.exten("s", f"Playback({first})")
    for prompt in rest:
        conf.same(f"Playback({prompt})")
    conf.same("Hangup()")


def _time_spec(span: OpeningSpan, zone: ZoneInfo) -> str:
    """GotoIfTime's `times,weekdays,mdays,months,timezone` for a span. Asterisk counts the end minute in (17:30
    matches until 17:30:59), while the rules' `to` is the first minute closed: the range ends a minute earlier."""
    closes = span.closes.hour * 60 + span.closes.minute if span.closes else 24 * 60
    last = closes - 1
    times = f"{span.opens:%H:%M}-{last // 60:02d}:{last % 60:02d}"
    return f"{times},{_weekdays(span.days)},*,*,{zone.key}"


def _weekdays(days: frozenset[int]) -> str:
    """mon-fri, or runs joined with & (sat&mon-wed is not written: runs stay in Monday-to-Sunday order)."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return "&".join(DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}" for run in runs)
