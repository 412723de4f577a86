"""The validated rule set: frozen dataclasses that the router, dialplan generator and prompt checker share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo


class Mode(StrEnum):
    """How a line was merged into 12345 (names from the glossary in REQUIREMENTS.md)."""

    MAIN = "main"
    ABSORBED = "absorbed"
    DUAL_TRANSFER = "dual-transfer"
    DUAL_MERGED = "dual-merged"


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


WORKING_WEEK = frozenset(range(5))  # Monday to Friday


@dataclass(frozen=True)
class OpeningSpan:
    """Open on `days` (0 = Monday) from `opens` to `closes`; `closes` of None means midnight at the end of day.

    A span over Monday to Friday (but not every day) keeps the official working days, as a department's office
    does: a public holiday on a weekday closes it, a make-up workday (调休) on a weekend opens it; weekend days it
    names besides (mon-sat) stay open as named. A span on other days (sat, sun, mon-sun) is taken as written."""

    days: frozenset[int]
    opens: time
    closes: time | None

    @property
    def on_working_days(self) -> bool:
        return self.days >= WORKING_WEEK and len(self.days) < len(DAYS)

    def covers(self, moment: datetime, working_day: bool | None = None) -> bool:
        """`working_day`: whether the official calendar makes `moment`'s date a working day (None: not known,
        Monday to Friday are)."""
        day = moment.weekday()
        if self.on_working_days and working_day is not None:
            on = working_day or (day not in WORKING_WEEK and day in self.days)
        else:
            on = day in self.days
        now = moment.time().replace(tzinfo=None)
        return on and self.opens <= now and (self.closes is None or now < self.closes)


@dataclass(frozen=True)
class OpeningHours:
    """When a retained seat answers; an empty tuple of spans means 7x24, the plan's service standard."""

    spans: tuple[OpeningSpan, ...] = ()

    @property
    def always(self) -> bool:
        return not self.spans

    @property
    def on_working_days(self) -> bool:
        """Whether the official calendar changes when these hours are open (some span keeps the working days)."""
        return any(span.on_working_days for span in self.spans)

    def is_open(self, moment: datetime, working_day: bool | None = None) -> bool:
        return self.always or any(span.covers(moment, working_day) for span in self.spans)

    def describe(self) -> str:
        if self.always:
            return "7x24"
        parts = []
        for span in self.spans:
            days = ",".join(DAYS[d] for d in sorted(span.days))
            closes = span.closes.strftime("%H:%M") if span.closes else "24:00"
            parts.append(f"{days} {span.opens.strftime('%H:%M')}-{closes}")
        return "; ".join(parts)


# Asterisk's language code of the prompts: every plan sets CHANNEL(language) to it, so Asterisk looks for a prompt
# in the zh/ folder of its sounds, where the recordings/zh/ files are deployed.
PROMPT_LANGUAGE = "zh"


@dataclass(frozen=True)
class Prompt:
    """A recording the engine can play, by file name (without extension) in recordings/zh/."""

    name: str
    text_zh: str
    text_en: str


@dataclass(frozen=True)
class Department:
    id: str
    name_zh: str
    name_en: str


EVENTS = ("created", "updated")  # a stub written at the start of a call, and again at its end
# What a department gets of a stub unless its delivery lists `fields`: the ticket, not the switch's internals.
DEFAULT_FIELDS = (
    "id",
    "revision",
    "received",
    "timezone",
    "line",
    "line_name",
    "mode",
    "department",
    "department_name",
    "data_link",
    "dialed",
    "caller",
    "presentation",
    "category",
    "outcome",
    "queue",
    "queue_wait",
    "answered_by",
    "ended",
    "rating",
    "rating_reason",
    "deadlines",
)

# Every key of a stub's JSON (ivr.tickets.stub; a test keeps them in step): what a delivery may list.
STUB_FIELDS = (
    *DEFAULT_FIELDS,
    "uniqueid",
    "host",
    "linkedid",
    "channel",
    "engine",
    "redirecting",
    "flags",
    "stage",
    "route",
)


@dataclass(frozen=True)
class Delivery:
    """How `ivr deliver` pushes a data link's stub events to the department's system: a POST to `url` each,
    signed with the secret read from the environment variable `secret_env` (or the file `$secret_env_FILE`),
    `fields` of the stub (the caller masked unless `full_caller`), retried for `retry_seconds`."""

    url: str
    secret_env: str
    timeout: float = 10.0
    events: frozenset[str] = frozenset(EVENTS)
    fields: tuple[str, ...] = DEFAULT_FIELDS
    full_caller: bool = False
    retry_seconds: int = 24 * 3600
    ca_file: str = ""  # the department's own CA (PEM); "" trusts the system's


@dataclass(frozen=True)
class DataLink:
    """A department system that receives the tickets of a line in real time (数据对接)."""

    id: str
    name_zh: str
    name_en: str
    delivery: Delivery | None = None


@dataclass(frozen=True)
class Queue:
    """An Asterisk queue of 12345 agents (the main queue or an expert queue inside 12345)."""

    name: str
    queue: str
    name_zh: str
    name_en: str
    timeout: int
    fallback: str


@dataclass(frozen=True)
class Seat:
    """A department's retained seat, reached by transfer (dual-transfer lines)."""

    name: str
    dial: str
    name_zh: str
    name_en: str
    ring_timeout: int
    hours: OpeningHours
    prompt: str | None
    unavailable_prompt: str | None
    fallback: str


@dataclass(frozen=True)
class Announcement:
    """The end of every fallback chain: prompts that tell the caller what to do, then hang up."""

    name: str
    prompts: tuple[str, ...]


Destination = Queue | Seat | Announcement


@dataclass(frozen=True)
class AfterTransition:
    """What an absorbed line does once it has stopped service: an instruction, then connect or hang up."""

    prompts: tuple[str, ...]
    connect: bool


@dataclass(frozen=True)
class Transition:
    """The period in which a retired number still connects with a transition prompt; `ends` is exclusive."""

    starts: datetime
    ends: datetime
    after: AfterTransition


@dataclass(frozen=True)
class Line:
    """One number citizens dial: 12345 itself or one of the 28 merged lines."""

    number: str
    name_zh: str
    name_en: str
    department: Department
    mode: Mode
    prompts: tuple[str, ...]
    destination: str
    aliases: tuple[str, ...]
    transition: Transition | None
    data_link: DataLink | None
    note: str
    rating: bool = True  # a call a 12345 agent answered is asked for a rating when the agent hangs up


# The satisfaction rating after a 12345 agent hangs up: its question and its thanks, in the prompt manifest.
RATING_PROMPTS = ("rating", "rating-thanks")
# Played to a citizen who answers an automatic call-back, before the agent speaks: who calls, and why.
CALLBACK_PROMPT = "callback-greeting"
# Played every so often to a caller waiting in a queue, between the music on hold (the generated queues.conf).
COMFORT_PROMPT = "queue-comfort"


@dataclass(frozen=True)
class Trunk:
    """Number rewriting a carrier trunk needs before lookup (its own prefixes)."""

    name: str
    strip_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Numbering:
    international_prefixes: tuple[str, ...]
    country_code: str
    area_codes: tuple[str, ...]
    trunks: Mapping[str, Trunk]


@dataclass(frozen=True)
class Emergency:
    """Numbers the engine never routes; the dialplan sends them to `context` directly."""

    context: str
    numbers: Mapping[str, str]


@dataclass(frozen=True)
class Engine:
    """Where Asterisk finds the engines, and how long a conversation may last once a person answers.

    `agi_urls`: the engines in the order the dialplan tries them (the rules' `engine.agi_url`, one URL or a list),
    each agi://host[:port], or hagi://domain, which Asterisk itself resolves through DNS SRV records
    (_agi._tcp.domain) to several engines and tries in turn. `max_conversation`: seconds after a Queue or Dial
    connects; the FastAGI service bounds its sessions with it."""

    agi_urls: tuple[str, ...] = ("agi://127.0.0.1:4573",)
    max_conversation: int = 3600


@dataclass(frozen=True)
class Linkage:
    """Numbers a 12345 agent may transfer a caller to with one key (联动): the emergency numbers always, and the
    utility lines (water, power, gas) listed here, which the admin's `outbound_context` dials out."""

    outbound_context: str | None = None
    utilities: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Callbacks:
    """Calling back citizens who gave up waiting (abandoned in a queue, or hung up in a prompt), as Asterisk
    confirmed. The list always exists (`ivr callbacks`); `automatic` lets `ivr monitor` originate the calls: a
    Local channel waits in `queue` with QUEUE_PRIO `priority`, and once an agent answers, `dial` (with {number})
    rings the citizen, presenting 12345. At most `max_attempts` per call, `retry_minutes` apart, within `hours`;
    a number is never rung twice within `window_hours`, nor once it reached an agent meanwhile."""

    automatic: bool = False
    hours: OpeningHours = field(default_factory=OpeningHours)
    queue: str = "hotline-12345"
    priority: int = 10
    max_attempts: int = 2
    retry_minutes: int = 30
    window_hours: int = 24
    dial: str = ""


class Category(StrEnum):
    """What a citizen asks for (glossary: 咨询 / 求助 / 意见建议 / 投诉 / 举报); it sets how long a ticket may take."""

    ENQUIRY = "enquiry"
    HELP = "help"
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"
    REPORT = "report"


@dataclass(frozen=True)
class TimeLimit:
    """Working days to reply and close a ticket of one category (plan 三(五)), and the extensions the 12345
    management office may grant after that. `dispatch_at_once`: the plan sends complaints and reports to the
    handling unit at once (第一时间, 三(四)) instead of by the end of the day."""

    days: int
    extension_days: int = 0
    max_extensions: int = 0
    dispatch_at_once: bool = False

    @property
    def max_days(self) -> int:
        return self.days + self.extension_days * self.max_extensions


# The plan's own limits. "At most 3 (5) in all" is one extension to that total; the plan sets no step for it.
PLAN_TIME_LIMITS: Mapping[Category, TimeLimit] = MappingProxyType(
    {
        Category.ENQUIRY: TimeLimit(days=1, extension_days=2, max_extensions=1),
        Category.HELP: TimeLimit(days=3, extension_days=2, max_extensions=1),
        Category.SUGGESTION: TimeLimit(days=3, extension_days=2, max_extensions=1),
        Category.COMPLAINT: TimeLimit(days=15, extension_days=10, max_extensions=2, dispatch_at_once=True),
        Category.REPORT: TimeLimit(days=15, extension_days=10, max_extensions=2, dispatch_at_once=True),
    }
)


@dataclass(frozen=True)
class CalendarOverrides:
    """Holidays and make-up workdays the rules file sets itself, winning over the official calendar package.
    `years`: the years the file lists completely, so they count as covered even where the package has no data."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class CalendarRules:
    """Working hours and ticket time limits (plan 三(四) and 三(五)); the defaults are the plan's, and the rules
    file may change them because laws and provincial rules take precedence over the plan. The plan does not
    give working hours: 09:00-17:30 is the shipped file's assumption, for the city to confirm."""

    opens: time = time(9, 0)
    closes: time = time(17, 30)
    dispatch_by: time = time(10, 0)
    sign_for_within: timedelta = timedelta(hours=2)
    return_within: timedelta = timedelta(hours=24)
    time_limits: Mapping[Category, TimeLimit] = field(default_factory=lambda: PLAN_TIME_LIMITS)
    overrides: CalendarOverrides = field(default_factory=CalendarOverrides)


@dataclass(frozen=True)
class Rules:
    source: str
    timezone: ZoneInfo
    main: Line
    lines: Mapping[str, Line]
    by_alias: Mapping[str, Line]
    departments: Mapping[str, Department]
    data_links: Mapping[str, DataLink]
    queues: Mapping[str, Queue]
    seats: Mapping[str, Seat]
    announcements: Mapping[str, Announcement]
    prompts: Mapping[str, Prompt]
    numbering: Numbering
    emergency: Emergency
    calendar: CalendarRules = field(default_factory=CalendarRules)
    engine: Engine = field(default_factory=Engine)
    linkage: Linkage = field(default_factory=Linkage)
    callbacks: Callbacks = field(default_factory=Callbacks)
    recordings: Path = Path("recordings")  # the prompt manifest's folder: recordings/zh/<prompt>.wav and .alaw

    def destination(self, name: str) -> Destination:
        return self.queues.get(name) or self.seats.get(name) or self.announcements[name]

    def chain(self, start: str) -> list[str]:
        """The names of a destination and its fallbacks in order (the loader guarantees no loop): what `ivr check`
        lists and the dialplan's fallback follows."""
        names = [start]
        destination = self.destination(start)
        while not isinstance(destination, Announcement):
            names.append(destination.fallback)
            destination = self.destination(destination.fallback)
        return names

    def line_for(self, number: str) -> Line | None:
        return self.lines.get(number) or self.by_alias.get(number)
