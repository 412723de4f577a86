"""One context per queue, seat and announcement: the static plan's steps, each ending where its fallback begins.

`s,1` tries the destination; `s,failed` is what follows when it failed, so the fallback after a line's engine can
enter either. A Queue or Dial that connects the caller never comes back: without the `c` and `g` options Asterisk
hangs the caller up when the person does, so the steps after it run only when nobody answered. That is the
router's rule (a connect ends the plan, any failure goes on) without reading a status.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ivr.calendar.workdays import OFFICIAL_YEARS, WorkingDays
from ivr.dialplan import names
from ivr.dialplan.conf import Conf
from ivr.rules.model import DAYS, Announcement, OpeningSpan, Queue, Rules, Seat

# Queue(): `t` lets the agent transfer the caller with the blind-transfer key (linkage); the timeout is the fifth
# argument. Every queue of the rules has a fallback, so every Queue() has a timeout.
QUEUE_OPTIONS = "t"


# What ivr-day returns for a date: an ordinary day (Monday to Friday work), a weekday off (a public holiday), a
# weekend day of work (a make-up workday, 调休).
ORDINARY, DAY_OFF, WORKING = "ordinary", "day-off", "working-day"


def write_destinations(conf: Conf, rules: Rules) -> None:
    for queue in rules.queues.values():
        _queue(conf, queue)
    for seat in rules.seats.values():
        _seat(conf, seat, rules.timezone)
    for announcement in rules.announcements.values():
        _announcement(conf, announcement)
    if any(seat.hours.on_working_days for seat in rules.seats.values()):
        _days(conf, rules)


def _days(conf: Conf, rules: Rules) -> None:
    """The dates whose weekday does not say whether offices work, as the router reads them (the official calendar
    and calendar.overrides): the last two years the installed calendar knows and the years and dates the
    overrides list; any other date is ordinary, as the router counts a year nothing covers. Built again with
    `ivr dialplan build` after chinesecalendar or the overrides change."""
    working = WorkingDays(rules.calendar.overrides)
    overrides = rules.calendar.overrides
    years = {OFFICIAL_YEARS[-1] - 1, OFFICIAL_YEARS[-1], *overrides.years}
    dates = {date(year, 1, 1) + timedelta(days=n) for year in years for n in range(366)}
    dates = {d for d in dates if d.year in years} | set(overrides.holidays) | set(overrides.workdays)
    conf.section(
        names.DAY,
        f"What the official calendar makes of a date (YYYYMMDD in {rules.timezone.key}), for office hours over "
        f"Monday to Friday: {DAY_OFF} a weekday holiday, {WORKING} a make-up workday, else {ORDINARY}.",
    )
    conf.exten("_X.", f"Return({ORDINARY})")
    for day in sorted(dates):
        kind = _kind(day, working.is_working_day(day))
        if kind != ORDINARY:
            conf.exten(f"{day:%Y%m%d}", f"Return({kind})", note=working.label(day) or "")


def _kind(day: date, working: bool) -> str:
    if day.weekday() < 5:
        return ORDINARY if working else DAY_OFF
    return WORKING if working else ORDINARY


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
    closed = _opening(seat, zone)
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


def _opening(seat: Seat, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The steps that go to `open` while the seat is open, else to `failed` ([] for 7x24). Hours over Monday to
    Friday keep the official calendar: on a date ivr-day names, the spans are read as the router reads them then
    (a weekday holiday: only the spans on other days; a make-up workday: those spans on every weekday)."""
    spans = seat.hours.spans
    if not spans:
        return []
    as_written = [_goto_if_time(span, zone) for span in spans]
    if not seat.hours.on_working_days:
        return [*as_written, ("Goto(failed)", "")]
    today = f"${{STRFTIME(${{EPOCH}},{zone.key},%Y%m%d)}}"
    day_off = [_goto_if_time(span, zone) for span in spans if not span.on_working_days]
    working = [_goto_if_time(span, zone, every_day=span.on_working_days) for span in spans]
    return [
        (f"Gosub({names.DAY},{today},1)", ""),
        (f'GotoIf($["${{GOSUB_RETVAL}}" = "{DAY_OFF}"]?dayoff)', ""),
        (f'GotoIf($["${{GOSUB_RETVAL}}" = "{WORKING}"]?workday)', ""),
        *as_written,
        ("Goto(failed)", ""),
        *_labelled("dayoff", [*day_off, ("Goto(failed)", "")]),
        *_labelled("workday", [*working, ("Goto(failed)", "")]),
    ]


def _goto_if_time(span: OpeningSpan, zone: ZoneInfo, every_day: bool = False) -> tuple[str, str]:
    return f"GotoIfTime({_time_spec(span, zone, every_day)}?open)", ""


def _labelled(label: str, steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    (app, _), *rest = steps
    return [(app, label), *rest]


def _announcement(conf: Conf, announcement: Announcement) -> None:
    conf.section(names.destination(announcement.name), f"{announcement.name}: the final instruction, then hang up.")
    first, *rest = announcement.prompts
    conf.exten("s", f"Playback({first})")
    for prompt in rest:
        conf.same(f"Playback({prompt})")
    conf.same("Hangup()")


def _time_spec(span: OpeningSpan, zone: ZoneInfo, every_day: bool = False) -> str:
    """GotoIfTime's `times,weekdays,mdays,months,timezone` for a span (`every_day`: any weekday). Asterisk counts
    the end minute in (17:30 matches until 17:30:59), while the rules' `to` is the first minute closed: the range
    ends a minute earlier."""
    closes = span.closes.hour * 60 + span.closes.minute if span.closes else 24 * 60
    last = closes - 1
    times = f"{span.opens:%H:%M}-{last // 60:02d}:{last % 60:02d}"
    return f"{times},{'*' if every_day else _weekdays(span.days)},*,*,{zone.key}"


def _weekdays(days: frozenset[int]) -> str:
    """mon-fri, or runs joined with & (sat&mon-wed is not written: runs stay in Monday-to-Sunday order)."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return "&".join(DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}" for run in runs)
