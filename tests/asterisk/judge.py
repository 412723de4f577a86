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
    wait: int | None = None  # seconds waiting before an answer (CONNECT) or before giving up (ABANDON)
    abandoned_in: str = ""  # QueueCallerAbandon's queue
    seats: list[tuple[str, str]] = field(default_factory=list)  # (dialled channel, DialEnd's DialStatus)
    transferred_to: str = ""  # BlindTransfer's extension
    reached: list[str] = field(default_factory=list)  # the world's emergency-out / pstn-out numbers reached
    cdrs: list[dict[str, str]] = field(default_factory=list)  # the inbound half's CDR rows

    @property
    def seat_answered(self) -> bool:
        return any(status == "ANSWER" for _, status in self.seats)


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
        elif event == "CONNECT":
            found.wait = int(data[0])
        elif event == "ABANDON":
            found.wait = int(data[2])
        if event in LEFT_ANSWERED + LEFT_GAVE_UP + LEFT_FAILED:
            found.left.append((queue, event))
    for connect in site.events(call, "AgentConnect", Uniqueid=call.inbound):
        found.answered_by = connect.get("Interface") or ""
        found.answered_in = connect.get("Queue") or ""
    for abandon in site.events(call, "QueueCallerAbandon", Uniqueid=call.inbound):
        found.abandoned_in = abandon.get("Queue") or ""
    for dial in site.events(call, "DialEnd", Uniqueid=call.inbound):
        destination = dial.get("DestChannel") or ""
        if "@agents" not in destination:
            found.seats.append((destination, dial.get("DialStatus") or ""))
    for transfer in site.ami.select("BlindTransfer", call.since):
        if call.inbound in (transfer.get_all("TransfereeUniqueid") + transfer.get_all("TransfererUniqueid")):
            found.transferred_to = transfer.get("Extension") or ""
    for reached in site.events(call, "UserEvent", UserEvent="WorldReached"):
        found.reached.append(reached.get("Number") or "")
    found.cdrs = [row for row in site.switch.cdrs() if row["uniqueid"] == call.inbound]
    return found


def expected_outcome(found: Account) -> str:
    """The stub's outcome Asterisk's account implies."""
    if found.seat_answered:
        return "transferred"
    if found.answered_by:
        return "answered"
    if found.abandoned_in:
        return "abandoned"
    return ""


def assert_agree(stub: dict[str, Any], found: Account) -> None:
    """The stub says what Asterisk says: who answered, where, after how long, or where the caller gave up."""
    outcome = expected_outcome(found)
    if outcome:
        assert stub["outcome"] == outcome, f"stub {stub['outcome']}, Asterisk: {found}"
    if found.answered_by and not found.seat_answered:
        assert stub["answered_by"] == found.answered_by, (stub["answered_by"], found)
        assert stub["queue"] == found.answered_in, (stub["queue"], found)
    if found.wait is not None and (found.answered_by or found.abandoned_in):
        assert stub["queue_wait"] == found.wait, f"stub waited {stub['queue_wait']} s, Asterisk {found.wait} s"
    if found.entered and not found.seat_answered:
        assert stub["queue"] == found.entered[-1], f"stub's queue {stub['queue']}, Asterisk's last {found.entered}"
