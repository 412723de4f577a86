"""A small Asterisk dialplan interpreter for the subset `ivr dialplan build` writes, so tests can follow a call
through the generated extensions and see where the caller ends up. An ini parser would accept anything.

What it models, as Asterisk 22 does it:
- `exten => NAME,1[(label)],App(data)` and ` same => n[(label)],App(data)`; `;` starts a comment, `\\;` is a `;`;
- extension lookup: an exact name first, then a pattern (`_`, X Z N [..] . !), a '-' ignored in both the name
  and the number dialled; two patterns matching the same number is an error here (the generator must never
  rely on Asterisk's tie-break);
- `${VAR}`, `${FUNC(args)}` (FILTER, and CHANNEL/CDR/CALLERID as plain values; CHANNEL(language) is `en` until
  set, asterisk.conf's defaultlanguage) and `$[...]` as main/ast_expr2.y has it: a quoted string keeps its quotes
  and is compared as a string, so `"10" > "9"` is 0 and `"a" = a` is 0, while bare numbers are compared as
  numbers; `=~` is a search that need not start at the beginning (the first group's text when that group took
  part, else the length matched); `|` and `&` treat only the empty string and zero as false, so `""` is true;
- GotoIf's condition as pbx_checkcondition reads it: empty is false, a leading integer (after blanks) is itself,
  any other text, blanks included, is true;
- Answer, Set, Goto, GotoIf, GotoIfTime (end minute included, weekday ranges, a time zone), Gosub/Return with
  ARGn, AGI (the world decides: variables it leaves, AGISTATUS, or a hang-up), Playback (in the channel's
  language; it answers a channel that is not up yet), Queue and Dial (answered: the caller is hung up when the
  person is, as without `c`/`g`; otherwise the status and the next priority), UserEvent, Hangup;
- a Goto to a context the file does not have ends the run there (the emergency and outbound contexts); an
  unknown extension in a known context goes to its `i`; running past an extension's last priority hangs up.

Every priority run is kept in `Call.trace` as Asterisk announces it in its AMI Newexten event (context, the
extension dialled, priority number, application, data after substitution, whether the channel was up), so a
test can put the same case to a real Asterisk and compare the two paths step by step
(tests/asterisk/test_interpreter_vs_switch.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.dialplan.modules import APPLICATIONS, FUNCTIONS
from ivr.dialplan.parsed import Contexts, DialplanError, Priority, parse

# Applications and functions the generated dialplan may use, by the module that provides them ("core": built into
# Asterisk itself, pbx.c / pbx_builtins.c / pbx_variables.c).
# Queue() results of a caller who never joined (join_queue refused): no ANSWEREDTIME is set.
QUEUE_NOT_JOINED = frozenset({"FULL", "JOINEMPTY", "JOINUNAVAIL"})
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MAX_STEPS = 2000


@dataclass
class Dialplan:
    contexts: Contexts = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Dialplan:
        return cls(parse(text))

    def find(self, context: str, exten: str) -> str | None:
        """The extension Asterisk runs for `exten` in `context`: the exact name first, then the one pattern. A '-'
        counts for nothing on either side (pbx.c's ext_cmp_exten: "eye candy fluff"): 0871-110 is 0871110."""
        extensions = self.contexts[context]
        bare = exten.replace("-", "")
        exact = [name for name in extensions if not name.startswith("_") and name.replace("-", "") == bare]
        if len(exact) > 1:
            raise DialplanError(f"{exten!r} in {context} is several extensions: {exact}")
        if exact:
            return exact[0]
        matching = [name for name in extensions if name.startswith("_") and _pattern(name).fullmatch(bare)]
        if len(matching) > 1:
            raise DialplanError(f"{exten!r} in {context} matches several patterns: {matching}")
        return matching[0] if matching else None

    def priorities(self) -> list[tuple[str, str, Priority]]:
        return [(c, e, p) for c, extensions in self.contexts.items() for e, ps in extensions.items() for p in ps]


def _pattern(name: str) -> re.Pattern[str]:
    out, chars = "", name[1:]
    i = 0
    while i < len(chars):
        c = chars[i]
        if c == "[":
            end = chars.index("]", i)
            out += "[" + chars[i + 1 : end] + "]"
            i = end
        elif c != "-":
            out += {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}.get(c, re.escape(c))
        i += 1
    return re.compile(out)


# --- the world around the dialplan ----------------------------------------------------------------------------


@dataclass
class Channel:
    variables: dict[str, str] = field(default_factory=dict)
    answered: bool = False
    alive: bool = True

    @property
    def language(self) -> str:
        return self.variables.get("CHANNEL(language)", "en")


Engine = Callable[[Channel, list[str]], None]


def unreachable(channel: Channel, args: list[str]) -> None:
    """Connection refused or timed out: AGISTATUS=FAILURE and the call still unanswered (transcripts 6a, 6b)."""
    channel.variables["AGISTATUS"] = "FAILURE"


@dataclass
class World:
    """The engine, the queues (by Asterisk name) and the seats (by dial string): "ANSWER" or the status Asterisk
    sets when nobody answers. Unlisted queues time out, unlisted seats do not answer. `engines`: what each engine
    of a list does, by its URL (agi://host:port), when they differ; an engine not listed there does `engine`."""

    epoch: int
    engine: Engine = unreachable
    engines: Mapping[str, Engine] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)
    seats: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    kind: str  # answer, agi, play, queue, dial, userevent, set
    name: str = ""
    detail: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One priority as it starts: what Asterisk's Newexten event says (Context, Extension, Priority, Application,
    AppData) and whether the channel was answered by then (its ChannelState)."""

    context: str
    exten: str
    priority: int
    app: str
    data: str
    up: bool


@dataclass
class Call:
    """What happened: the events in order, and how the run ended: `hangup`, `person` (a queue or seat answered),
    `external` (sent to a context outside the file, with `where`), `gone` (the caller hung up during the engine),
    `fell-off` (ran past the end of an extension) or `invalid` (no extension and no `i`)."""

    events: list[Event] = field(default_factory=list)
    trace: list[Step] = field(default_factory=list)
    ending: str = ""
    where: tuple[str, str] = ("", "")
    channel: Channel = field(default_factory=Channel)

    def of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]

    @property
    def played(self) -> list[str]:
        return [event.name for event in self.of("play")]


@dataclass
class _Frame:
    context: str
    exten: str
    index: int
    args: list[str]


def run(plan: Dialplan, context: str, exten: str, world: World, channel: Channel | None = None) -> Call:
    """One call entering `context` at `exten`, priority 1, to its end."""
    return _Run(plan, world, channel or Channel()).start(context, exten)


class _Run:
    def __init__(self, plan: Dialplan, world: World, channel: Channel) -> None:
        self.plan, self.world = plan, world
        self.call = Call(channel=channel)
        self.ch = channel
        self.stack: list[_Frame] = []
        self.context = self.exten = self.extension = ""
        self.index = 0
        self.args: list[str] = []

    def start(self, context: str, exten: str) -> Call:
        self._goto(context, exten, "1")
        for _ in range(MAX_STEPS):
            if self.call.ending:
                break
            priorities = self.plan.contexts[self.context][self.extension]
            if self.index >= len(priorities):
                self.call.ending = "fell-off"
                break
            self._step(priorities)
        else:
            raise DialplanError(f"no end after {MAX_STEPS} priorities: a loop")
        if self.call.ending != "external":
            self._hangup_extension()
        return self.call

    def _step(self, priorities: list[Priority]) -> None:
        priority = priorities[self.index]
        self.index += 1
        data = self.substitute(priority.data)
        self.call.trace.append(Step(self.context, self.exten, self.index, priority.app, data, self.ch.answered))
        self._execute(priority.app, data)

    def _hangup_extension(self) -> None:
        """However the call ended in this file, Asterisk then runs the `h` extension of the context it ended in,
        if there is one, to its end (main/pbx.c, ast_pbx_h_exten_run); how the call ended stays as it was."""
        if self.context not in self.plan.contexts or self.plan.find(self.context, "h") is None:
            return
        ending, self.call.ending = self.call.ending, ""
        self.exten = self.extension = "h"
        self.index = 0
        priorities = self.plan.contexts[self.context]["h"]
        while self.index < len(priorities) and not self.call.ending:
            self._step(priorities)
        self.call.ending = ending

    # --- jumps ------------------------------------------------------------------------------------------------

    def _goto(self, context: str, exten: str, priority: str) -> None:
        if context not in self.plan.contexts:
            self.call.ending, self.call.where = "external", (context, exten)
            return
        found = self.plan.find(context, exten)
        if found is None:
            if self.plan.find(context, "i") is None:
                self.call.ending = "invalid"
                return
            self.ch.variables["INVALID_EXTEN"] = exten
            exten, found, priority = "i", "i", "1"
        self.context, self.exten, self.extension = context, exten, found
        priorities = self.plan.contexts[context][found]
        if priority.isdigit():
            self.index = int(priority) - 1
        else:
            labels = [i for i, p in enumerate(priorities) if p.label == priority]
            if len(labels) != 1:
                raise DialplanError(f"label {priority!r} in {context},{found}: {len(labels)} found")
            self.index = labels[0]

    def _target(self, target: str) -> None:
        parts = target.split(",")
        if len(parts) == 3:
            self._goto(*parts)
        elif len(parts) == 2:
            self._goto(self.context, parts[0], parts[1])
        else:
            self._goto(self.context, self.exten, parts[0])

    # --- applications -----------------------------------------------------------------------------------------

    def _execute(self, app: str, data: str) -> None:
        if app not in APPLICATIONS:
            raise DialplanError(f"application {app} is not in the subset")
        v = self.ch.variables
        if app == "Answer":
            self.ch.answered = True
            self.call.events.append(Event("answer"))
        elif app == "Set":
            name, _, value = data.partition("=")
            v[name.lstrip("_")] = value
            self.call.events.append(Event("set", name, (value,)))
        elif app == "Goto":
            self._target(data)
        elif app == "GotoIf":
            condition, _, branches = data.partition("?")
            when_true, _, when_false = branches.partition(":")
            chosen = when_true if _check(condition) else when_false
            if chosen:
                self._target(chosen)
        elif app == "GotoIfTime":
            spec, _, branches = data.partition("?")
            when_true, _, when_false = branches.partition(":")
            chosen = when_true if _in_time(spec, self.world.epoch) else when_false
            if chosen:
                self._target(chosen)
        elif app == "Gosub":
            self._gosub(data)
        elif app == "Return":
            v["GOSUB_RETVAL"] = data  # apps/app_stack.c: the value, or "" (set whatever it was)
            frame = self.stack.pop()
            self.context, self.exten, self.index, self.args = frame.context, frame.exten, frame.index, frame.args
            self.extension = self.plan.find(self.context, self.exten) or ""
        elif app == "AGI":
            url, *args = data.split(",")
            self.call.events.append(Event("agi", url, tuple(args)))
            self.world.engines.get(url.rpartition("/")[0], self.world.engine)(self.ch, args)
            if not self.ch.alive:
                self.call.ending = "gone"  # AGI returns -1: only the h extension would run
        elif app == "Playback":
            self.ch.answered = True  # app_playback answers first unless told `noanswer`
            self.call.events.append(Event("play", data, (self.ch.language,)))
        elif app == "Queue":
            name, options, _, _, timeout = [*data.split(","), "", "", "", ""][:5]
            self._connect("queue", name, (options, timeout), self.world.queues.get(name, "TIMEOUT"), "QUEUESTATUS")
        elif app == "Dial":
            target, timeout = [*data.split(","), ""][:2]
            self._connect("dial", target, (timeout,), self.world.seats.get(target, "NOANSWER"), "DIALSTATUS")
        elif app == "UserEvent":
            name, *headers = data.split(",")
            self.call.events.append(Event("userevent", name, tuple(headers)))
        elif app == "Hangup":
            self.call.ending = "hangup"

    def _gosub(self, data: str) -> None:
        head, _, rest = data.partition("(")
        args = _split_args(rest[:-1]) if rest else []
        parts = head.split(",")
        self.stack.append(_Frame(self.context, self.exten, self.index, self.args))
        self.args = args
        self._target(",".join(parts))

    def _connect(self, kind: str, name: str, detail: tuple[str, ...], result: str, status: str) -> None:
        """Queue and Dial clear ANSWEREDTIME as they start (Dial its DIALSTATUS too, and sets ANSWER once the person
        hangs up); a caller who joined the queue and left it unanswered gets ANSWEREDTIME=0 (app_queue.c at
        `stop:`), one who never joined only the status."""
        self.call.events.append(Event(kind, name, (*detail, result)))
        v = self.ch.variables
        v["ANSWEREDTIME"] = ""
        if kind == "dial":
            v["DIALSTATUS"] = ""
        if result == "ANSWER":
            v["ANSWEREDTIME"] = "5"
            if kind == "dial":  # Dial answers the caller once the called party answers (apps/app_dial.c)
                v["DIALSTATUS"] = "ANSWER"
                self.ch.answered = True
            self.call.ending = "person"
            return
        v[status] = result
        if kind == "queue" and result not in QUEUE_NOT_JOINED:
            v["ANSWEREDTIME"] = "0"

    # --- substitution -----------------------------------------------------------------------------------------

    def substitute(self, text: str) -> str:
        out, i = "", 0
        while i < len(text):
            if text.startswith("${", i) or text.startswith("$[", i):
                close = "}" if text[i + 1] == "{" else "]"
                end = _matching(text, i + 1)
                inner = self.substitute(text[i + 2 : end])
                out += self._value(inner) if close == "}" else evaluate(inner)
                i = end + 1
            else:
                out += text[i]
                i += 1
        return out

    def _value(self, name: str) -> str:
        if call := re.fullmatch(r"([A-Z]+)\((.*)\)", name):
            function, argument = call.groups()
            if function not in FUNCTIONS:
                raise DialplanError(f"function {function} is not in the subset")
            if function == "FILTER":
                allowed, _, value = argument.partition(",")
                return "".join(c for c in value if c in allowed)
            if function == "STRFTIME":  # epoch,zone,format: the moment in that zone (func_strings.c)
                epoch, zone, form = [*argument.split(",", 2), "", ""][:3]
                return datetime.fromtimestamp(int(epoch), ZoneInfo(zone)).strftime(form or "%c")
            if name == "CHANNEL(language)":
                return self.ch.language
            return self.ch.variables.get(name, "")
        if name == "EXTEN":
            return self.exten
        if name == "EPOCH":
            return str(self.world.epoch)
        if arg := re.fullmatch(r"ARG([0-9]+)", name):
            n = int(arg[1])
            return self.args[n - 1] if n <= len(self.args) else ""
        return self.ch.variables.get(name, "")


def _matching(text: str, opening: int) -> int:
    pairs = {"{": "}", "[": "]"}
    want, depth = pairs[text[opening]], 0
    for i in range(opening, len(text)):
        if text[i] == text[opening]:
            depth += 1
        elif text[i] == want:
            depth -= 1
            if depth == 0:
                return i
    raise DialplanError(f"unbalanced {text!r}")


def _split_args(text: str) -> list[str]:
    return text.split(",") if text else []


# --- $[...] expressions -----------------------------------------------------------------------------------------

# ast_expr2.fl's tokens: a quoted string (kept with its quotes), an operator, a number, or a bare word; a number
# followed by word characters is a word (flex takes the longest match).
_WORD = r"[A-Za-z0-9.';\\_^#@\x80-\U0010ffff]"
_TOKEN = re.compile(rf'\s*(?:("[^"]*")|(=~|!=|>=|<=|[=<>|&()])|([0-9]+(?:\.[0-9]+)?(?!{_WORD}))|({_WORD}+))')


@dataclass(frozen=True)
class _Value:
    """A value as ast_expr2.y holds it: `number` (a result), `numeric` (digits as written) or `string`."""

    kind: str
    text: str

    @classmethod
    def of_number(cls, number: float) -> _Value:
        return cls("number", f"{number:.18g}")

    @classmethod
    def made(cls, text: str) -> _Value:
        """make_str: digits (a leading '-' or '.' allowed) are a numeric string, anything else a string."""
        numeric = bool(text) and (text[0].isdigit() or text[0] in "-.") and all(c.isdigit() or c == "." for c in text)
        return cls("numeric" if numeric else "string", text)

    def is_false(self) -> bool:
        """is_zero_or_null: an empty string, or a number (or numeric string) equal to zero."""
        return self.text == "" or (self.kind != "string" and float(self.text) == 0)

    def converted(self) -> _Value:
        """is_zero_or_null turns a numeric string into a number as it looks at it."""
        return _Value.of_number(float(self.text)) if self.kind == "numeric" else self


def evaluate(expression: str) -> str:
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(expression.rstrip()):
        match = _TOKEN.match(expression, at)
        if match is None:
            raise DialplanError(f"expression not understood: {expression!r}")
        quoted, operator, number, word = match.groups()
        if operator:
            tokens.append(("op", operator))
        else:
            tokens.append(("numeric", number) if number else ("string", quoted or word))
        at = match.end()
    value, rest = _or(tokens)
    if rest:
        raise DialplanError(f"expression not understood: {expression!r}")
    return value.text


Tokens = list[tuple[str, str]]


def _or(tokens: Tokens) -> tuple[_Value, Tokens]:
    left, tokens = _and(tokens)
    while tokens and tokens[0] == ("op", "|"):
        right, tokens = _and(tokens[1:])
        left = right if left.is_false() else left.converted()
    return left, tokens


def _and(tokens: Tokens) -> tuple[_Value, Tokens]:
    left, tokens = _compare(tokens)
    while tokens and tokens[0] == ("op", "&"):
        right, tokens = _compare(tokens[1:])
        left = _Value.of_number(0) if left.is_false() or right.is_false() else left.converted()
    return left, tokens


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _compare(tokens: Tokens) -> tuple[_Value, Tokens]:
    """The comparisons, left to right: as strings (strcoll) when either side is a string, else as numbers."""
    left, tokens = _match(tokens)
    while tokens and tokens[0][0] == "op" and tokens[0][1] in _COMPARISONS:
        operator = tokens[0][1]
        right, tokens = _match(tokens[1:])
        if "string" in (left.kind, right.kind):
            order = (left.text > right.text) - (left.text < right.text)
        else:
            a, b = float(left.text), float(right.text)
            order = (a > b) - (a < b)
        left = _Value.of_number(1 if _COMPARISONS[operator](order) else 0)
    return left, tokens


def _match(tokens: Tokens) -> tuple[_Value, Tokens]:
    """op_eqtilde: both sides without their quotes, the pattern searched for anywhere in the text."""
    left, tokens = _term(tokens)
    while tokens and tokens[0] == ("op", "=~"):
        right, tokens = _term(tokens[1:])
        pattern = re.compile(_unquoted(right.text))
        found = pattern.search(_unquoted(left.text))
        if found and pattern.groups and found.start(1) >= 0:
            left = _Value.made(found.group(1))
        elif found:
            left = _Value.of_number(found.end() - found.start())
        else:
            left = _Value.made("") if pattern.groups else _Value.of_number(0)
    return left, tokens


def _unquoted(text: str) -> str:
    """strip_quotes: a value that starts and ends with a quote loses every quote in it."""
    return text.replace('"', "") if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _term(tokens: Tokens) -> tuple[_Value, Tokens]:
    if not tokens:
        raise DialplanError("expression ends too early")
    kind, value = tokens[0]
    if (kind, value) == ("op", "("):
        inner, rest = _or(tokens[1:])
        if not rest or rest[0] != ("op", ")"):
            raise DialplanError("unbalanced parentheses in an expression")
        return inner, rest[1:]
    if kind == "op":
        raise DialplanError(f"unexpected {value!r} in an expression")
    return _Value(kind, value), tokens[1:]


def _check(condition: str) -> bool:
    """pbx_checkcondition: empty is false, an integer sscanf reads (blanks first allowed) is itself, any other
    text (blanks only included) is true."""
    if not condition:
        return False
    number = re.match(r"\s*[+-]?\d+", condition)
    return int(number.group(0)) != 0 if number else True


# --- GotoIfTime -------------------------------------------------------------------------------------------------


def _in_time(spec: str, epoch: int) -> bool:
    times, weekdays, mdays, months, zone = spec.split(",")
    if (mdays, months) != ("*", "*"):
        raise DialplanError("GotoIfTime with days of the month or months is not in the subset")
    local = datetime.fromtimestamp(epoch, ZoneInfo(zone))
    day = DAY_NAMES[(local.weekday() + 1) % 7]
    return _in_days(weekdays, day) and _in_minutes(times, local.hour * 60 + local.minute)


def _in_minutes(times: str, minute: int) -> bool:
    for part in times.split("&"):
        start, end = (int(t[:2]) * 60 + int(t[3:]) for t in part.split("-"))
        covered, m = {end}, start  # the end minute counts, as in Asterisk's get_timerange
        while m != end:
            covered.add(m)
            m = (m + 1) % (24 * 60)
        if minute in covered:
            return True
    return False


def _in_days(weekdays: str, day: str) -> bool:
    if weekdays == "*":  # any day (main/pbx_timing.c, ast_build_timing)
        return True
    for part in weekdays.split("&"):
        first, _, last = part.partition("-")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        d, covered = start, {end}
        while d != end:
            covered.add(d)
            d = (d + 1) % 7
        if DAY_NAMES.index(day) in covered:
            return True
    return False
