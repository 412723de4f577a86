"""The inbound contexts (one per trunk) and the engine subroutine.

Every delivered form of an emergency number goes straight to the emergency context and never to the engine. Every
form of a line runs the engine (`AGI(agi://host:port/route,${EXTEN}[,trunk])`) and then that line's fallback, which
does nothing when the engine finished the call. Any other number goes to the engine as well and falls back to
12345, as the router sends an unknown number there; it is first stripped of anything but digits and `+` and looked
up again, so `0871-110` is caught as an emergency number too.
"""

from __future__ import annotations

from ivr.agi.executor import STAGE
from ivr.dialplan import names
from ivr.dialplan.conf import Conf
from ivr.dialplan.forms import inbound_forms
from ivr.rules.model import Rules

DIGITS_ONLY = "FILTER(+0123456789,{})"


def trunks(rules: Rules) -> list[str | None]:
    """None for the default trunk (no trunk argument: the engine applies the default trunk's prefixes)."""
    return [None, *(name for name in rules.numbering.trunks if name != names.DEFAULT_TRUNK)]


def write_inbound(conf: Conf, rules: Rules, trunk: str | None) -> None:
    prefixes = rules.numbering.trunks.get(trunk or names.DEFAULT_TRUNK)
    stripped = " ".join(prefixes.strip_prefixes) if prefixes and prefixes.strip_prefixes else "none"
    which = f"trunk {trunk}" if trunk else "the default trunk"
    conf.section(
        names.inbound(trunk),
        f"Calls from {which} (trunk prefixes: {stripped}): point the carrier's endpoint, or a Goto, here.",
    )
    engine = _engine_call("${EXTEN}", trunk)
    current = None
    for form in inbound_forms(rules, trunk):
        if form.emergency is not None:
            if current != form.emergency:
                current = form.emergency
                service = rules.emergency.numbers[form.emergency]
                conf.comment(
                    f"{form.emergency} {service}: never the engine; every form goes to {rules.emergency.context}"
                )
            conf.exten(form.delivered, f"Goto({rules.emergency.context},{form.emergency},1)")
            continue
        assert form.line is not None
        if current != form.line:
            current = form.line
            line = rules.lines[form.line]
            conf.comment(f"{line.number} {line.name_zh} ({line.mode.value})")
        conf.exten(form.delivered, engine)
        conf.same(f"Goto({names.line(form.line)},s,1)")
    main = names.line(rules.main.number)
    conf.comment(
        f"Any other number: the engine routes it (an unknown number to {rules.main.number}); without the engine, "
        f"{rules.main.number}.\nSeparators are dropped first and the number looked up again: 0871-110 is 0871110."
    )
    for pattern in ("_X.", "_+X."):
        conf.exten(pattern, f"Set(IVR_DIGITS=${{{DIGITS_ONLY.format('${EXTEN}')}}})")
        conf.same('GotoIf($["${IVR_DIGITS}" != "${EXTEN}"]?${IVR_DIGITS},1)')
        conf.same(engine)
        conf.same(f"Goto({main},s,1)")
    conf.comment("No number delivered at all.")
    conf.exten("s", engine)
    conf.same(f"Goto({main},s,1)")
    conf.comment("Sent here with a number no extension matches: looked up again without separators, else as unknown.")
    conf.exten("i", f"Set(IVR_DIGITS=${{{DIGITS_ONLY.format('${INVALID_EXTEN}')}}})")
    conf.same('GotoIf($["${IVR_DIGITS}" != "" & "${IVR_DIGITS}" != "${INVALID_EXTEN}"]?${IVR_DIGITS},1)')
    conf.same(_engine_call("${INVALID_EXTEN}", trunk))
    conf.same(f"Goto({main},s,1)")


def _engine_call(number: str, trunk: str | None) -> str:
    return f"Gosub({names.ENGINE},s,1({number}{',' + trunk if trunk else ''}))"


def write_engine(conf: Conf, rules: Rules) -> None:
    urls = rules.engine.agi_urls
    conf.section(
        names.ENGINE,
        "The engine, one FastAGI session per call: ARG1 is the number as delivered, ARG2 the trunk (or empty).\n"
        "IVR_STAGE is cleared first, so a stage the fallback reads is always this call's. TRANSFER_CONTEXT is\n"
        "inherited by the agent's channel: a transfer from the phone or with the blind-transfer key goes to the\n"
        "linkage context. After the key the agent hears the dial tone and keys the number: no announcement, so\n"
        "the transfer needs none of Asterisk's English sounds. Return() also after a failed connect\n"
        "(AGISTATUS=FAILURE): the fallback takes over."
        + (
            "\nThe next engine only while IVR_STAGE is still empty: the one before was not reached, refused the call,\n"
            "or ended before any prompt, queue or seat, so the caller has heard nothing of it. Once it is set the\n"
            "engine acted (whatever AGISTATUS says: a missing prompt file is FAILURE too) and the fallback goes on."
            if len(urls) > 1
            else ""
        ),
    )
    conf.exten("s", "Set(IVR_STAGE=)")
    conf.same(f"Set(__TRANSFER_CONTEXT={names.LINKAGE})")
    # features.conf's transferannouncesound (pbx-transfer) is played to the agent after the blind-transfer key; a
    # host without Asterisk's core sounds has no such file, and then bridge_basic.c's grab_transfer() gives the
    # transfer up at once (on a real Asterisk the caller stayed with the agent). FEATURE() set on the caller's
    # channel, with inherit, is copied to the agent's channel when app_queue rings it.
    conf.same("Set(FEATURE(transferannouncesound)=)")
    conf.same("Set(FEATURE(inherit)=yes)")
    for i, url in enumerate(urls):
        if i:
            conf.same(f'GotoIf($["${{{STAGE}}}" != ""]?acted)')
        conf.same(f"AGI({url}/route,${{ARG1}},${{ARG2}})")
    conf.same("Return()", label="acted" if len(urls) > 1 else "")
