"""Asterisk's own account of a call, from its AMI events, its queue_log and its CDR, and the check that the
project's records (the stub, the engine's call line, the rating) say the same. Asterisk is right where they differ.

queue_log rows are `time|callid|queue|agent|event|data1|data2|…` (callid: the caller channel's uniqueid, here the
inbound half); the events and their data are those of apps/app_queue.c."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.asterisk.site import Call, Site

# queue_log events that end a caller's stay in a queue, and what each means for the caller.
LEFT_ANSWERED = ("COMPLETEAGENT", "COMPLETECALLER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
LEFT_GAVE_UP = ("ABANDON",)
LEFT_FAILED = ("EXITEMPTY", "EXITWITHTIMEOUT", "EXITWITHKEY")


@dataclass
class Account:
    """What Asterisk recorded about one call."""

    entered: list[str] = field(default_factory=list)  # queues, in the order the caller joined them
    left: list[tuple[str, str]] = field(default_factory=list)  # (queue, queue_log event) in order
    answered_by: str = ""  # AgentConnect's Interface
    answered_in: str = ""  # the queue the agent answered in
    abandoned_in: str = ""  # QueueCallerAbandon's queue
    seats: list[tuple[str, str]] = field(default_factory=list)  # (dialled channel, DialEnd's DialStatus)
    transferred_to: str = ""  # the extension of a BlindTransfer that succeeded
    # The caller was handed over by an attended transfer (AttendedTransfer, Result Success, with the caller as
    # the transferee): the agent talked to the target first, so no extension is named.
    attended: bool = False
    reached: list[str] = field(default_factory=list)  # the world's emergency-out / pstn-out numbers reached
    cdrs: list[dict[str, str]] = field(default_factory=list)  # the inbound half's CDR rows
    # The seat a Dial reached as DialBegin's DialString names it (what DIALEDPEERNUMBER holds), by dialled channel.
    dial_strings: dict[str, str] = field(default_factory=dict)
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (file, AGIExecEnd ResultCode) per STREAM FILE
    hung_up_in: str = ""  # the AGI command in flight when the call began to hang up ("" when none was)
    citizen_cause: str = ""  # the Hangup Cause of the citizen's phone
    after_hangup: list[str] = field(default_factory=list)  # AGI commands Asterisk began after that
    fell_back: bool = False  # the generated dialplan carried the call on after the engine (UserEvent IvrFallback)
    # Seconds of each stay in a queue, as queue_log ends it: CONNECT's holdtime, or the waittime of ABANDON,
    # EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY. A lead's waiting times are their sum (the stub's queue_wait).
    waited: list[tuple[str, int]] = field(default_factory=list)
    completed: str = ""  # AgentComplete's Reason: agent (hung up first), caller (hung up first), transfer
    agent_channel: str = ""  # AgentConnect's DestChannel: the agent's side of the conversation (its CDR row)
    # Each rating question (the engine's AGI GET DATA) with the keys Asterisk received from the caller meanwhile
    # (DTMFEnd, Direction Received, on the inbound half).
    asked: list[list[str]] = field(default_factory=list)
    ended_in: str = ""  # the context the inbound half hung up in (emergency-out after the agent sent it to 110)

    @property
    def seat_answered(self) -> bool:
        return any(status == "ANSWER" for _, status in self.seats)

    @property
    def seat_reached(self) -> str:
        """The DialString of the seat that answered ("" when none did): who a transferred caller talked to."""
        return next((self.dial_strings.get(channel, "") for channel, status in self.seats if status == "ANSWER"), "")

    @property
    def hung_up_in_prompt(self) -> str:
        """The prompt Asterisk was playing to the caller (an AGI STREAM FILE) when the caller hung up, else ""."""
        return _streamed(self.hung_up_in)

    @property
    def acted_after_hangup(self) -> list[str]:
        """AGI commands begun after the hang-up that act on the caller (all but GET/SET VARIABLE, which still work
        on a dead channel): a real Asterisk runs EXEC there, and an EXEC Queue would ring an agent."""
        return [command for command in self.after_hangup if not command.startswith(("GET VARIABLE", "SET VARIABLE"))]

    def seat_cdr(self, channel: str) -> str:
        """The disposition of the inbound half's CDR row for the Dial of this seat channel ("" when none)."""
        return next((row["disposition"] for row in self.cdrs if row["dstchannel"] == channel), "")


# cdr_csv's disposition for a Dial's DIALSTATUS (main/cdr.c, dial_status_to_disposition; CONGESTION and any
# other status are FAILED with the default cdr.conf).
CDR_DISPOSITION = {"ANSWER": "ANSWERED", "BUSY": "BUSY", "NOANSWER": "NO ANSWER", "CANCEL": "NO ANSWER"}


def _streamed(command: str) -> str:
    """The file of an AGI `STREAM FILE name "digits"` command, else ""."""
    verb, _, rest = command.partition("STREAM FILE ")
    return rest.split(" ", 1)[0] if not verb and rest else ""


def account(site: Site, call: Call) -> Account:
    """Asterisk's account, once the call has hung up (cdr_csv writes the row at the end)."""
    assert site.switch is not None
    found = Account()
    for row in site.switch.queue_log():
        if len(row) < 5 or row[1] != call.inbound:
            continue
        queue, event, data = row[2], row[4], row[5:]
        if event == "ENTERQUEUE":
            found.entered.append(queue)
        if event == "CONNECT":
            found.waited.append((queue, int(data[0])))
        elif event in LEFT_GAVE_UP + LEFT_FAILED:
            found.waited.append((queue, int(data[-1])))
        if event in LEFT_ANSWERED + LEFT_GAVE_UP + LEFT_FAILED:
            found.left.append((queue, event))
    for connect in site.events(call, "AgentConnect", Uniqueid=call.inbound):
        found.answered_by = connect.get("Interface") or ""
        found.answered_in = connect.get("Queue") or ""
        found.agent_channel = connect.get("DestChannel") or ""
    for complete in site.events(call, "AgentComplete", Uniqueid=call.inbound):
        found.completed = complete.get("Reason") or ""
    _rating_keys(site, call, found)
    for hangup in site.events(call, "Hangup", Uniqueid=call.inbound):
        found.ended_in = hangup.get("Context") or ""
    for abandon in site.events(call, "QueueCallerAbandon", Uniqueid=call.inbound):
        found.abandoned_in = abandon.get("Queue") or ""
    for dial in site.events(call, "DialEnd", Uniqueid=call.inbound):
        destination = dial.get("DestChannel") or ""
        if "@agents" not in destination:
            found.seats.append((destination, dial.get("DialStatus") or ""))
    begun = {m.get("DestUniqueid"): m.get("DialString") or "" for m in site.events(call, "DialBegin")}
    for dial in site.events(call, "DialEnd", Uniqueid=call.inbound):
        found.dial_strings[dial.get("DestChannel") or ""] = begun.get(dial.get("DestUniqueid"), "")
    _agi(site, call, found)
    found.fell_back = bool(site.events(call, "UserEvent", UserEvent="IvrFallback"))
    for transfer in site.ami.select("BlindTransfer", call.since, Result="Success"):  # not an extension refused
        if call.inbound in (transfer.get_all("TransfereeUniqueid") + transfer.get_all("TransfererUniqueid")):
            found.transferred_to = transfer.get("Extension") or ""
    attended = site.ami.select("AttendedTransfer", call.since, Result="Success", TransfereeUniqueid=call.inbound)
    found.attended = bool(attended)
    for reached in site.events(call, "UserEvent", UserEvent="WorldReached"):
        found.reached.append(reached.get("Number") or "")
    found.cdrs = [row for row in site.switch.cdrs() if row["uniqueid"] == call.inbound]
    return found


def _agi(site: Site, call: Call, found: Account) -> None:
    """The prompts the engine had Asterisk stream (AGIExecEnd says whether each played: 200, or -1 for a missing
    file or a hang-up), and the AGI command still running when the call began to hang up: the first hang-up
    request or Hangup of either half (the two halves run in two threads, so the citizen's own Hangup event may
    come after the AGIExecEnd its hang-up caused)."""
    agi, ending = ("AGIExecStart", "AGIExecEnd"), ("SoftHangupRequest", "HangupRequest", "Hangup")
    halves = (call.citizen, call.inbound)
    with site.ami.changed:
        history = [m for m in site.ami.events[call.since :] if m.event in agi + ending and m.get("Uniqueid") in halves]
    running: dict[str, str] = {}
    hanging_up = False
    for message in history:
        if message.event in ending:
            if message.event == "Hangup" and message.get("Uniqueid") == call.citizen:
                found.citizen_cause = message.get("Cause") or ""
            if not hanging_up:
                hanging_up = True
                found.hung_up_in = next(iter(running.values()), "")
        elif message.get("Uniqueid") == call.inbound:
            command, command_id = message.get("Command") or "", message.get("CommandId") or ""
            if message.event == "AGIExecStart":
                running[command_id] = command
                if hanging_up:
                    found.after_hangup.append(command)
                continue
            running.pop(command_id, None)
            if _streamed(command):
                found.prompts.append((_streamed(command), message.get("ResultCode") or ""))


def _rating_keys(site: Site, call: Call, found: Account) -> None:
    """The keys Asterisk received from the caller during each rating question (an AGI GET DATA on the inbound
    half, from its AGIExecStart to its AGIExecEnd)."""
    with site.ami.changed:
        history = [m for m in site.ami.events[call.since :] if m.get("Uniqueid") == call.inbound]
    asking = ""
    for message in history:
        command = message.get("Command") or ""
        if message.event == "AGIExecStart" and command.startswith("GET DATA"):
            asking = message.get("CommandId") or ""
            found.asked.append([])
        elif message.event == "AGIExecEnd" and asking and message.get("CommandId") == asking:
            asking = ""
        elif message.event == "DTMFEnd" and asking and message.get("Direction") == "Received":
            found.asked[-1].append(message.get("Digit") or "")


# README "After the conversation: the satisfaction rating": the key of a question, and what it rates.
RATING_KEYS = {"1": "satisfied", "2": "basically-satisfied", "3": "dissatisfied"}
# How the engine's route step names the end of a Queue(), by the queue_log event that ended the caller's stay:
# with option `c` (a rated line) the agent hanging up first brings the caller back (CONTINUE).
STEP_OF_LEFT = {
    "COMPLETEAGENT": ("answered-agent-hung-up", "answered-continue"),
    "COMPLETECALLER": ("answered-caller-hung-up",),
    "BLINDTRANSFER": ("answered-transferred",),
    # An attended transfer swaps the target into the caller's bridge (or merges the bridges: main/bridge.c,
    # two_bridge_attended_transfer): the caller stays in Queue() until the conversation with the target ends, so
    # the engine sees the caller hang up there (or, with `c`, CONTINUE when the target hangs up first).
    "ATTENDEDTRANSFER": ("answered-transferred", "answered-caller-hung-up", "answered-continue"),
    "ABANDON": ("abandoned",),
    "EXITWITHTIMEOUT": ("queue-failed",),
    "EXITEMPTY": ("queue-failed",),
    "EXITWITHKEY": ("queue-failed",),
}
# The QUEUESTATUS Queue() returns with, by the queue_log event (apps/app_queue.c); a caller refused at the door
# (JOINEMPTY, FULL, JOINUNAVAIL) never enters: no ENTERQUEUE, no queue_log row at all.
STATUS_OF_LEFT = {"EXITWITHTIMEOUT": "TIMEOUT", "EXITEMPTY": "LEAVEEMPTY"}
NOT_JOINED = ("JOINEMPTY", "FULL", "JOINUNAVAIL")


def rating_of(found: Account) -> tuple[str, str]:
    """The rating and reason the README's rules give for the keys Asterisk received: a question's key 1, 2 or 3
    rates; no key or another key asks once more; after the last question, its reason; a hang-up in one ends it."""
    why = ""
    for keys in found.asked:
        if keys and keys[0] in RATING_KEYS:
            return RATING_KEYS[keys[0]], ""
        why = "invalid" if keys else "timed-out"
    if found.hung_up_in.startswith("GET DATA"):
        return "not-rated", "caller-hung-up"
    return "not-rated", why


def expected_outcome(found: Account) -> str:
    """The stub's outcome Asterisk's account implies."""
    if found.seat_answered or found.transferred_to or found.attended:
        return "transferred"
    if found.answered_by:
        return "answered"
    if found.abandoned_in or (found.seats and found.seats[-1][1] == "CANCEL"):
        return "abandoned"  # gave up in a queue, or while the department's seat rang (Dial's CANCEL)
    if found.hung_up_in_prompt:
        return "hung-up-in-prompt"
    return ""


def assert_agree(stub: dict[str, Any], found: Account) -> None:
    """The stub says what Asterisk says: who answered, where, after how long, or where the caller gave up."""
    outcome = expected_outcome(found)
    if outcome:
        assert stub["outcome"] == outcome, f"stub {stub['outcome']}, Asterisk: {found}"
    if found.answered_by and not found.seat_answered:
        assert stub["answered_by"] == found.answered_by, (stub["answered_by"], found)
        assert stub["queue"] == found.answered_in, (stub["queue"], found)
    if found.waited and (found.answered_by or found.abandoned_in):  # in every queue the caller waited in
        waited = sum(seconds for _, seconds in found.waited)
        assert stub["queue_wait"] == waited, f"stub waited {stub['queue_wait']} s, Asterisk {found.waited}"
    if found.entered and not found.seat_answered:
        assert stub["queue"] == found.entered[-1], f"stub's queue {stub['queue']}, Asterisk's last {found.entered}"
    if not found.fell_back:  # every seat was dialled by the engine: its route names each with Asterisk's status
        dialled = [_field(step["detail"], "DIALSTATUS") for step in stub["route"] if step["what"].startswith("dial:")]
        assert dialled == [status for _, status in found.seats], f"stub's seat dials {dialled}, Asterisk: {found.seats}"
    if found.seat_answered:
        assert stub["answered_by"] == found.seat_reached, f"stub {stub['answered_by']}, Asterisk: {found.seat_reached}"
    if found.hung_up_in_prompt:
        said = [step["detail"] for step in stub["route"] if step["what"] == "hangup-in-prompt"]
        assert said == [found.hung_up_in_prompt], f"stub: hung up in {said}, Asterisk: in {found.hung_up_in_prompt}"
    if not found.fell_back and stub["outcome"] not in ("unfinished", "in-progress"):
        _assert_queue_steps(stub, found)
        _assert_rating(stub, found)
    if found.answered_by and not found.fell_back:
        _assert_cdr(stub, found)


def _assert_queue_steps(stub: dict[str, Any], found: Account) -> None:
    """Each Queue() of the stub's route ended as queue_log says the caller's stay there ended (or, never
    entered, refused at the door), and every queue the caller entered is in the route, in order."""
    steps = [step for step in stub["route"] if step["what"].startswith("queue:")]
    left = list(found.left)
    for step in steps:
        name, outcome = step["what"].removeprefix("queue:").split(" ", 1)
        status = _field(step["detail"], "QUEUESTATUS")
        if left and left[0][0] == name:
            _, event = left.pop(0)
            event = _completed_by_attended_transfer(event, found)
            assert outcome in STEP_OF_LEFT[event], f"stub: {name} {outcome}; queue_log: {event}"
            if event in STATUS_OF_LEFT:
                assert status == STATUS_OF_LEFT[event], f"stub: {name} {status}; queue_log: {event}"
        else:
            assert (outcome, status in NOT_JOINED) == ("queue-failed", True), f"stub: {step}; never in {name}"
    assert left == [], f"queue_log has stays the stub's route does not: {left}"


def _completed_by_attended_transfer(event: str, found: Account) -> str:
    """queue_log's row for a stay that an attended transfer ended. When the agent completes the transfer by hanging
    up (atxferdropcall=no), app_queue may log COMPLETEAGENT instead of ATTENDEDTRANSFER: its handle_hangup runs
    from the stasis topic after the transfer, finds the agent's channel gone or no longer a transferer, and takes
    it for a plain hang-up (apps/app_queue.c). Asterisk's bridge and its AMI AttendedTransfer say the caller was
    handed over; that is what the stub must say."""
    return "ATTENDEDTRANSFER" if event == "COMPLETEAGENT" and found.attended else event


def _assert_rating(stub: dict[str, Any], found: Account) -> None:
    """The rating is what the keys Asterisk received give; a call nobody answered is never rated; one the agent
    passed on, or whose caller hung up in the conversation, says so."""
    said = (stub["rating"], stub["rating_reason"])
    if found.asked:
        assert said == rating_of(found), f"stub: {said}; Asterisk asked {found.asked}"
    elif not found.answered_by or found.seat_answered:
        assert said == ("", ""), f"stub {said}: nobody of 12345 answered, yet a rating"
    elif stub["rating"]:  # answered, never asked: handed on, or the caller was gone before the question
        # AgentComplete's Reason has app_queue's race too: `agent` for an attended transfer completed by a hang-up.
        why = "transferred" if found.completed == "transfer" or found.attended else "caller-hung-up"
        assert said == ("not-rated", why), f"stub {said}; AgentComplete Reason {found.completed}: never asked"


def _assert_cdr(stub: dict[str, Any], found: Account) -> None:
    """The CDR rows of the inbound half carry the line's tags, and the agent's row is ANSWERED and as long as
    the conversation the engine read (ANSWEREDTIME) at least."""
    tags = f"line={stub['line']};dept={stub['department']};mode={stub['mode']}"
    assert all(row["userfield"].startswith(tags) for row in found.cdrs), (tags, found.cdrs)
    rows = [row for row in found.cdrs if row["dstchannel"] == found.agent_channel]
    assert [row["disposition"] for row in rows] == ["ANSWERED"], f"agent {found.agent_channel}: {found.cdrs}"
    talked = [_field(s["detail"], "ANSWEREDTIME") for s in stub["route"] if "MEMBERINTERFACE=" in s["detail"]]
    # After an attended transfer ANSWEREDTIME also counts the talk with the target, in the same Queue() bridge.
    assert talked and (found.attended or int(rows[0]["billsec"]) >= int(talked[-1] or 0)), (talked, rows)


def _field(detail: str, name: str) -> str:
    """NAME's value in a stub route step's detail (`DIALSTATUS=BUSY ANSWEREDTIME=…`)."""
    return next((part.split("=", 1)[1] for part in detail.split() if part.startswith(f"{name}=")), "")
