"""Every number of a site's rules through the real switch, judged against what `ivr route NUMBER --json` says for
the same moment. What the caller heard and who answered are read from Asterisk itself: the engine's AGI commands
(AGIExecStart, and AGIExecEnd for whether a prompt played through), the dialplan's own applications (Newexten,
PLAYBACKSTATUS), queue_log, AgentConnect and DialEnd; then the engine's ticket stub and `call` line must say the
same. Used by test_lines*.py and test_seat_hours.py: each places all its calls at once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ivr.agi import rating
from ivr.rules.loader import load_rules
from tests.asterisk.judge import Account, account, assert_agree
from tests.asterisk.site import CALLER, Call, Site
from tests.conftest import SHIPPED_RULES

SHIPPED = load_rules(SHIPPED_RULES)
EMERGENCY = tuple(SHIPPED.emergency.numbers)
TALK = 2  # seconds an agent (answer:S) talks before hanging up first
HOLD = 180  # the citizen never hangs up first: the switch ends every call


def numbers(mode: str | None = None) -> list[str]:
    """The shipped rules' numbers (of one mode): the site's rules keep the same lines."""
    return [number for number, line in SHIPPED.lines.items() if mode is None or line.mode.value == mode]


def trunk_context(trunk: str | None) -> str:
    """The inbound context a carrier's trunk delivers to (README, Asterisk configuration)."""
    return f"ivr-inbound-{trunk}" if trunk else "ivr-inbound"


@dataclass
class Placed:
    """One citizen's call and the plan `ivr route` gave for the same number, trunk and caller."""

    dialed: str
    trunk: str | None
    call: Call
    plan: dict[str, Any]


def route(site: Site, number: str, trunk: str | None = None) -> dict[str, Any]:
    """`ivr route --json` on the site's rules, for the citizen's number as Site.call presents it."""
    extra = ["--trunk", trunk] if trunk else []
    return json.loads(site.ivr("route", number, "--json", "--rules", str(site.rules), "--caller", CALLER, *extra))


def staff(site: Site, agents: dict[str, int]) -> dict[str, list[str]]:
    """Agents logged in to each queue (queue: how many), each answering and talking TALK s; distinct numbers."""
    staffed: dict[str, list[str]] = {}
    number = 8001
    for queue, count in agents.items():
        for _ in range(count):
            staffed.setdefault(queue, []).append(site.agent(queue, str(number), f"answer:{TALK}"))
            number += 1
    return staffed


def leave(site: Site, staffed: dict[str, list[str]]) -> None:
    for queue, interfaces in staffed.items():
        for interface in interfaces:
            site.logoff(queue, interface)


def place(
    site: Site, dialed: Iterable[tuple[str, str | None]], emergency: Iterable[tuple[str, str | None]] = ()
) -> dict[str, Placed]:
    """Every (number, trunk) called at once, its route asked meanwhile; returns once every call has hung up. An
    emergency call is answered by the world's emergency-out and never ends by itself: its citizen hangs up at once."""
    wanted = [(number, trunk, HOLD) for number, trunk in dialed] + [(n, trunk, 1) for n, trunk in emergency]
    calls = [site.call(number, hold=hold, context=trunk_context(trunk)) for number, trunk, hold in wanted]
    with ThreadPoolExecutor(4) as pool:
        plans = list(pool.map(lambda item: route(site, item[0], item[1]), wanted))
    for call in calls:
        site.hung_up(call, timeout=HOLD)
    return {n: Placed(n, trunk, call, plan) for (n, trunk, _), call, plan in zip(wanted, calls, plans, strict=True)}


# What the caller went through, as a list of ("play", prompt), ("queue", queue), ("dial", dial string).
Steps = list[tuple[str, str]]


def expected(plan: dict[str, Any], engine: bool = True) -> Steps:
    """The plan's steps up to the first queue or seat, which answers in these worlds; after a rated queue the
    engine asks for the rating (nobody presses a key: asked ATTEMPTS times) and thanks. The dialplan alone
    never asks."""
    path: Steps = []
    for step in plan["steps"]:
        if step["kind"] == "play":
            path.append(("play", step["prompt"]))
        elif step["kind"] == "queue":
            path.append(("queue", step["queue"]))
            if engine and step["rating"]:
                path += [("play", rating.QUESTION)] * rating.ATTEMPTS + [("play", rating.THANKS)]
            return path
        elif step["kind"] == "dial":
            return [*path, ("dial", step["dial"])]
        elif step["kind"] == "hangup":
            return path
    return path


def reached(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The plan's first queue or seat step: who answers in these worlds (None: the plan ends in a hang-up)."""
    return next((step for step in plan["steps"] if step["kind"] in ("queue", "dial")), None)


def engine_path(site: Site, call: Call) -> Steps:
    """What the engine had Asterisk do to the caller, from Asterisk's AGIExecStart events on the inbound half; a
    prompt counts only if its AGIExecEnd says Asterisk played it through (Success: not missing, not cut)."""
    ends = {m.get("CommandId"): m.get("Result") for m in site.events(call, "AGIExecEnd", Uniqueid=call.inbound)}
    path: Steps = []
    for start in site.events(call, "AGIExecStart", Uniqueid=call.inbound):
        command = start.get("Command") or ""
        words = command.split(" ")
        if words[:2] == ["STREAM", "FILE"] or words[:2] == ["GET", "DATA"]:
            result = ends.get(start.get("CommandId"))
            path.append(("play", words[2]) if result == "Success" else ("not played", f"{words[2]}: {result}"))
        elif words[:2] in (["EXEC", "Queue"], ["EXEC", "Dial"]):
            path.append((words[1].lower(), words[2].split(",")[0]))
    return path


def engine_sets(site: Site, call: Call) -> list[tuple[str, str]]:
    """The engine's SET VARIABLE commands as (name, value), Asterisk's AGI quoting removed."""
    found = []
    for start in site.events(call, "AGIExecStart", Uniqueid=call.inbound):
        match = re.fullmatch(r'SET VARIABLE (\S+) "?(.*?)"?', start.get("Command") or "")
        if match:
            found.append((match[1], match[2]))
    return found


def dialplan_path(site: Site, call: Call) -> Steps:
    """What the generated dialplan itself did to the caller (Newexten on the inbound half)."""
    path: Steps = []
    for step in site.events(call, "Newexten", Uniqueid=call.inbound):
        app, data = step.get("Application"), step.get("AppData") or ""
        if app == "Playback":
            path.append(("play", data))
        elif app in ("Queue", "Dial"):
            path.append((app.lower(), data.split(",")[0]))
    return path


def closed_stubs(site: Site, calls: Iterable[Call], timeout: float = 20) -> dict[str, dict[str, Any]]:
    """Every stub in the site's store by uniqueid, as `ivr tickets list --json` prints them (one command for all
    the module's calls), once the engine has closed the stubs of `calls`."""
    deadline = time.monotonic() + timeout
    while True:
        listed = json.loads(site.ivr("tickets", "list", "--json", "--store", site.store, "--unmask"))
        found = {stub["uniqueid"]: stub for stub in listed}
        open_ = [c.inbound for c in calls if found.get(c.inbound, {}).get("outcome", "in-progress") == "in-progress"]
        if not open_:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no closed stub for {open_}")
        time.sleep(0.2)


def asterisk_reached(found: Account, plan: dict[str, Any], staffed: dict[str, list[str]]) -> None:
    """Asterisk's queue_log / AgentConnect / DialEnd show the plan's first queue or seat answering, and nothing
    else entered or rung."""
    first = reached(plan)
    if first is None:
        assert (found.entered, found.seats, found.answered_by) == ([], [], ""), f"nobody is rung: {found}"
    elif first["kind"] == "queue":
        queue = first["queue"]
        assert found.entered == [queue], f"queue_log ENTERQUEUE {found.entered}, the plan {queue}"
        assert found.answered_by in staffed[queue] and found.answered_in == queue, found
        assert found.left == [(queue, "COMPLETEAGENT")], f"the agent hangs up first: {found.left}"
        assert found.seats == [], found
    else:
        assert found.entered == [] and len(found.seats) == 1, found
        channel, status = found.seats[0]
        assert channel.startswith(first["dial"] + "-") and status == "ANSWER", (found.seats, first["dial"])


def shown_to_person(site: Site, call: Call, plan: dict[str, Any]) -> None:
    """The agent's or seat's phone shows the citizen's number and the original line (CALLERID(name), e.g.
    `12396 merged`): DestConnectedLineName of AgentConnect, or of DialBegin for a seat."""
    first = reached(plan)
    if first is None:
        return
    event = "AgentConnect" if first["kind"] == "queue" else "DialBegin"
    shown = [(m.get("DestConnectedLineNum"), m.get("DestConnectedLineName")) for m in site.events(call, event)]
    name = next(step["value"] for step in plan["steps"] if step.get("name") == "CALLERID(name)")
    assert shown == [(CALLER, name)], f"{event} shows {shown}"


def check_engine_call(site: Site, placed: Placed, staffed: dict[str, list[str]], stored: dict[str, Any]) -> None:
    """One number through the engine: Asterisk did what the plan says, and the stub and call line agree."""
    plan, call = placed.plan, placed.call
    first = reached(plan)
    kind = first["kind"] if first else None  # queue, dial, or None: nobody is rung
    assert engine_path(site, call) == expected(plan), f"Asterisk's AGI commands for {placed.dialed}"
    sets = [(step["name"], step["value"]) for step in plan["steps"] if step["kind"] == "set"]
    names = {name for name, _ in sets}
    assert [s for s in engine_sets(site, call) if s[0] in names] == sets, "the plan's channel variables, in order"
    assert site.events(call, "UserEvent", UserEvent="IvrFallback") == [], "the dialplan's fallback never ran"
    assert dialplan_path(site, call) == [], "every prompt, queue and dial came from the engine"
    found = account(site, call)
    asterisk_reached(found, plan, staffed)
    shown_to_person(site, call, plan)
    userfield = next(step["value"] for step in plan["steps"] if step.get("name") == "CDR(userfield)")
    assert found.cdrs and {row["userfield"] for row in found.cdrs} == {userfield}, found.cdrs

    stub = stored.get(call.inbound)
    assert stub is not None, f"no stub for {placed.dialed}"
    # The number Asterisk gave the engine: 0871-12329 as delivered (Asterisk skips a dash when it matches an
    # extension, pbx.c candidate_exten_advance, and EXTEN keeps it); 12 396 without the space (no extension
    # matches it: the dialplan's _X. drops it and looks again).
    (agi,) = [m.get("AppData") or "" for m in site.events(call, "Newexten", Uniqueid=call.inbound, Application="AGI")]
    _, delivered, trunk = agi.split(",")
    assert (delivered, trunk) == (placed.dialed.replace(" ", ""), placed.trunk or ""), agi
    assert (stub["dialed"], stub["line"], stub["mode"], stub["department"], stub["data_link"]) == (
        delivered,
        plan["number"],
        plan["mode"],
        plan["department"]["id"],
        plan["data_link"] or "",
    )
    assert stub["flags"] == plan["flags"]
    assert_agree(stub, found)
    outcome = {None: "instructed", "queue": "answered", "dial": "transferred"}[kind]
    assert (stub["outcome"], stub["stage"]) == (outcome, "done")
    if kind == "dial":  # who answered: assert_agree, against DialBegin
        assert (stub["queue"], stub["rating"]) == ("", "")
    elif kind == "queue":
        assert (stub["rating"], stub["rating_reason"]) == ("not-rated", "timed-out"), "nobody pressed a key"
    else:
        assert (stub["answered_by"], stub["queue"], stub["rating"]) == ("", "", "")

    line = site.call_line(call)
    result = "instructed" if kind is None else "answered"
    assert (line["dialed"], line["line"], line["mode"], line["result"], line["stage"]) == (
        delivered,
        plan["number"],
        plan["mode"],
        result,
        "done",
    )
    if first is not None:
        destination = f"{kind}:{first['destination']}:answered"
        assert line["steps"].split(",")[-1].startswith(destination), line["steps"]


def check_dialplan_call(site: Site, placed: Placed, staffed: dict[str, list[str]]) -> None:
    """One number with no engine to reach: the generated dialplan alone plays the plan `ivr route` gives."""
    plan, call = placed.plan, placed.call
    assert site.events(call, "AGIExecStart") == [], "no engine session"
    path = dialplan_path(site, call)
    assert path == expected(plan, engine=False), f"the dialplan's applications for {placed.dialed}"
    played = [m.get("Value") for m in site.events(call, "VarSet", Uniqueid=call.inbound, Variable="PLAYBACKSTATUS")]
    assert played == ["SUCCESS"] * sum(kind == "play" for kind, _ in path), "each Playback played its file"
    fallback = site.events(call, "UserEvent", UserEvent="IvrFallback")
    assert [(m.get("Line"), m.get("Stage"), m.get("AgiStatus")) for m in fallback] == [(plan["number"], "", "FAILURE")]
    found = account(site, call)
    asterisk_reached(found, plan, staffed)
    shown_to_person(site, call, plan)
    userfield = next(step["value"] for step in plan["steps"] if step.get("name") == "CDR(userfield)")
    assert {row["userfield"] for row in found.cdrs} == {f"{userfield};fallback=;agistatus=FAILURE"}, found.cdrs


def check_emergency_call(site: Site, placed: Placed, stored: dict[str, Any]) -> None:
    """An emergency number in any form: Asterisk hands it to the emergency context, the engine never hears of it."""
    plan, call = placed.plan, placed.call
    assert plan["refused"] == "emergency" and plan["context"] == "emergency-out", plan
    found = account(site, call)
    assert found.reached == [plan["number"]], f"emergency-out reached {found.reached}"
    reached_in = {m.get("Where") for m in site.events(call, "UserEvent", UserEvent="WorldReached")}
    assert reached_in == {"emergency"}
    assert site.events(call, "AGIExecStart") == [], "no AGI session at all"
    assert [m for m in site.events(call, "Newexten") if m.get("Application") == "AGI"] == []
    assert call.inbound not in stored, "no stub"
