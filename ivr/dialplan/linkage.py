"""The transfer context (联动): where a 12345 agent's blind transfer, by key or from the phone, sends the caller.

The engine subroutine sets `__TRANSFER_CONTEXT` to it on the caller's channel, and the agent's channel inherits it.
Emergency numbers go to the emergency context, as when a citizen dials them; utility lines to the admin's own
outbound context. A number not listed is refused by Asterisk and the agent stays connected to the caller.
"""

from __future__ import annotations

from ivr.dialplan import names
from ivr.dialplan.conf import Conf
from ivr.rules.model import Rules


def write_linkage(conf: Conf, rules: Rules) -> None:
    conf.section(
        names.LINKAGE,
        "One-key transfer for agents: the blind-transfer key (Queue option t) or the phone's transfer button.",
    )
    for number, service in rules.emergency.numbers.items():
        conf.exten(number, f"Goto({rules.emergency.context},{number},1)", note=service)
    outbound = rules.linkage.outbound_context
    for name, number in rules.linkage.utilities.items():
        conf.exten(number, f"Goto({outbound},{number},1)", note=name)
