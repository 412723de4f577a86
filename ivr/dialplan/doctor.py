"""The context `ivr doctor` calls into (a Local channel it originates) to prove that Asterisk reaches the engine.

The engine answers the `doctor` script with its clock and writes no stub (ivr.agi.executor). Asterisk tells its own
clock before and after the AGI (`%s.%3q`: milliseconds, so a 2 s tolerance is not eaten by rounding) and its
offset for the rules' time zone: an Asterisk host without that zone in its tz database gives +0000, and then every
GotoIfTime of the generated dialplan runs on the wrong hours. The engine also says what it names this Asterisk
host (ivr.hosts), which must be what the monitor names it. The UserEvent is also what proves that the monitor's
AMI user receives events with the channel variables it needs (IVR_LINE, TICKET_ID are empty on this call, but the
headers are there).
"""

from __future__ import annotations

from ivr.agi.executor import DOCTOR_SCRIPT, DOCTOR_VARIABLE
from ivr.dialplan.conf import Conf
from ivr.rules.model import Rules

CONTEXT = "ivr-doctor"
EVENT = "IvrDoctor"
# Set by the doctor's Originate (a Local channel copies its variables to the ;2 half that runs this context): which
# doctor's call this is, while Asterisk gives the channels their own uniqueids, systemname and all.
TOKEN = "IVR_DOCTOR_TOKEN"
_CLOCK = "${STRFTIME(,,%s.%3q)}"


def write_doctor(conf: Conf, rules: Rules) -> None:
    conf.section(
        CONTEXT,
        "`ivr doctor`'s test call: the engine tells its clock, routes nothing, writes no stub. One extension per\n"
        "engine, numbered in the order the engine subroutine tries them, so the doctor calls each.",
    )
    for number, url in enumerate(rules.engine.agi_urls, 1):
        conf.exten(str(number), f"Set({DOCTOR_VARIABLE}=)")
        conf.same(f"Set(IVR_DOCTOR_BEFORE={_CLOCK})")
        conf.same(f"AGI({url}/{DOCTOR_SCRIPT})")
        zone = rules.timezone.key
        conf.same(
            f"UserEvent({EVENT},Token: ${{{TOKEN}}},AgiStatus: ${{AGISTATUS}},Engine: ${{{DOCTOR_VARIABLE}}},"
            f"Before: ${{IVR_DOCTOR_BEFORE}},After: {_CLOCK},Zone: {zone},"
            f"Offset: ${{STRFTIME(${{EPOCH}},{zone},%z)}})"
        )
        conf.same("Hangup()")
