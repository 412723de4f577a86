"""The monitor's board, figures and call-back list through outages, judged by the real Asterisk: `ivr monitor`
restarted while callers wait, the AMI session cut by Asterisk (`manager kick session`: the TCP connection closes
under the monitor without a Shutdown event, as when a manager thread is killed or a firewall resets the link), and
Asterisk restarted (`core restart now`). After each, what a lead reads (`ivr queues --json`, `ivr callbacks list
--json`, `ivr tickets show --json`) agrees with the AMI events and queue_log: nobody counted twice, nobody lost."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from typing import Any

import pytest

from tests.ami.monitor import queues, start_monitor, wait_for
from tests.asterisk.lead import agrees_with_queue_log, wallboard_agrees
from tests.asterisk.site import Call, Site
from tests.asterisk.switch import MONITOR
from tests.web.server import start_web

QUEUE = "hotline-12345"


@pytest.fixture(scope="module", autouse=True)
def monitor(site: Site):
    site.start_monitor()
    yield
    assert site.monitor is not None
    site.monitor.stop()


def view(site: Site) -> dict[str, Any]:
    return queues(site.store, site.rules)


def waiting(site: Site) -> list[tuple[str, int, str]]:
    """The board's callers waiting in QUEUE: (uniqueid, position, line)."""
    shown = next((q for q in view(site)["queues"] if q["queue"] == QUEUE), {"waiting": []})
    return [(c["uniqueid"], c["position"], c["line"]) for c in shown["waiting"]]


def queue_log(site: Site, call: Call) -> list[str]:
    """The queue_log events of this caller (callid: the inbound half's uniqueid)."""
    assert site.switch is not None
    return [row[4] for row in site.switch.queue_log() if row[1] == call.inbound]


def joined(site: Site, calls: list[Call]) -> list[tuple[str, int, str]]:
    """Each caller joined QUEUE (the judge's QueueCallerJoin): (uniqueid, position, line) as Asterisk gave them."""
    found = [site.ami.wait_event("QueueCallerJoin", 60, call.since, Uniqueid=call.inbound) for call in calls]
    return sorted((m.get("Uniqueid") or "", int(m.get("Position") or 0), "12345") for m in found)


def link(site: Site) -> dict[str, Any]:
    return view(site)["monitors"][0]


def gave_up(site: Site, calls: list[Call]) -> None:
    """Asterisk's own record: each caller left the queue exactly once, by ABANDON (queue_log and the judge's AMI)."""
    for call in calls:
        assert queue_log(site, call).count("ENTERQUEUE") == 1 and queue_log(site, call)[-1] == "ABANDON"


def listed(site: Site, calls: list[Call]) -> None:
    """What a lead reads agrees: one due call-back per caller who gave up, each stub abandoned in QUEUE."""
    due = [c for c in site.callbacks() if c["state"] == "due"]
    for call in calls:
        stub = site.ticket_of(call)
        assert (stub["outcome"], stub["queue"]) == ("abandoned", QUEUE), stub
        assert [c["ticket"] for c in due].count(stub["id"]) == 1, (stub["id"], due)


def today(site: Site) -> dict[str, Any]:
    return next(q for q in view(site)["queues"] if q["queue"] == QUEUE)["today"]


def test_the_monitor_restarted_while_callers_wait(site: Site):
    agent = site.agent(QUEUE, "8001", "ring")
    try:
        calls = [site.call("12345", caller=f"1390000000{n}") for n in (1, 2)]
        expected = sorted(joined(site, calls), key=lambda c: c[1])
        wait_for("both callers on the board", lambda: waiting(site) == expected)
        before = link(site)["since"]
        assert site.monitor is not None
        site.monitor.stop()
        site.start_monitor()
        wait_for("the new monitor's board", lambda: link(site)["since"] > before and link(site)["up"])
        assert waiting(site) == expected, "rebuilt from QueueStatus: the same callers, places and original lines"
        for call in calls:
            site.hang_up(call)
        for call in calls:
            site.hung_up(call)
        wait_for("nobody waits", lambda: waiting(site) == [])
        gave_up(site, calls)
        listed(site, calls)
        assert (today(site)["offered"], today(site)["abandoned"]) == (2, 2), "each caller counted once"
    finally:
        site.logoff(QUEUE, agent)


def test_a_caller_who_gives_up_while_the_monitor_is_down_is_still_called_back(site: Site):
    """Asterisk's QueueCallerAbandon went to nobody (AMI keeps no history); its queue_log has the ABANDON, which
    the monitor reads back once it is connected again: the call-back list (Asterisk-confirmed abandons only) has
    the caller, with the wait and position Asterisk logged, and today's figures count the abandon."""
    agent = site.agent(QUEUE, "8004", "ring")
    try:
        call = site.call("12345", caller="13900000005")
        joined(site, [call])
        wait_for("the caller on the board", lambda: [c[0] for c in waiting(site)] == [call.inbound])
        assert site.monitor is not None
        site.monitor.stop()
        site.hang_up(call)
        site.hung_up(call)
        site.start_monitor()
        wait_for("nobody waits", lambda: waiting(site) == [] and link(site)["up"])
        gave_up(site, [call])
        listed(site, [call])
        assert site.switch is not None
        (row,) = [r for r in site.switch.queue_log() if r[1] == call.inbound and r[4] == "ABANDON"]
        steps = [s["detail"] for s in site.ticket_of(call)["route"] if s["what"] == "ami:abandoned"]
        assert steps == [f"{QUEUE} at position {row[5]} after {row[7]} s"], "Asterisk's position and wait"
        rows = [r for r in site.switch.queue_log() if r[2] == QUEUE]
        assert today(site)["abandoned"] == sum(r[4] == "ABANDON" for r in rows), "counted like every abandon"
        assert site.monitor is not None
        assert re.search(r"queue_log \S+: [1-9][0-9]* fact\(s\) from ", site.monitor.log_text()), "read back"
    finally:
        site.logoff(QUEUE, agent)


def test_the_ami_session_cut_while_a_caller_waits(site: Site):
    """`manager kick session` closes the monitor's TCP connection from Asterisk's side with no Shutdown event
    before it: what the monitor sees of a manager thread gone or a reset link. Calls go on meanwhile."""
    agent = site.agent(QUEUE, "8002", "ring")
    try:
        call = site.call("12345", caller="13900000003")
        joined(site, [call])
        wait_for("the caller on the board", lambda: [c[0] for c in waiting(site)] == [call.inbound])
        assert site.switch is not None and site.monitor is not None
        connected = site.switch.cli("manager show connected").stdout
        fd = next(line.split()[4] for line in connected.splitlines() if line.split()[:1] == ["ivr-monitor"])
        since = site.ami.mark()
        assert "Kicking manager session" in site.switch.cli(f"manager kick session {fd}").stdout
        site.ami.wait_event("SuccessfulAuth", 60, since, AccountID="ivr-monitor")  # the monitor is back
        assert "AMI link down: connection lost" in site.monitor.log_text()
        wait_for("the board rebuilt", lambda: link(site)["up"] and waiting(site) == [(call.inbound, 1, "12345")])
        site.hang_up(call)
        site.hung_up(call)
        wait_for("nobody waits", lambda: waiting(site) == [])
        gave_up(site, [call])
        listed(site, [call])
    finally:
        site.logoff(QUEUE, agent)


class Link:
    """A TCP relay between the monitor and Asterisk's AMI whose `cut()` makes the open connections go silent
    both ways, without a FIN or RST: a cable pulled or a firewall dropping the connection's state. Connections
    made after the cut are relayed again (the link is back)."""

    def __init__(self, port: int) -> None:
        self.port_to = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off: set[int] = set()  # the numbers of the connections cut
        self.opened = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.cut_off |= set(range(1, self.opened + 1))

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                near, _ = self.listener.accept()
                far = socket.create_connection(("127.0.0.1", self.port_to))
                self.opened += 1
                for a, b in ((near, far), (far, near)):
                    threading.Thread(target=self._pump, args=(self.opened, a, b), daemon=True).start()

    def _pump(self, number: int, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if number in self.cut_off:
                    continue  # dropped on the floor, as a dead link does
                sink.sendall(data)

    def close(self) -> None:
        self.listener.close()


@contextmanager
def monitor_over(site: Site, relay: Link) -> Iterator[None]:
    """The module's monitor replaced, for one test, by one that reaches Asterisk through `relay`."""
    assert site.monitor is not None and site.switch is not None
    site.monitor.stop()
    login = {
        "IVR_AMI_USER": MONITOR,
        "IVR_AMI_SECRET_FILE": str(site.folder / "ami-secret"),
        "IVR_QUEUE_LOG": str(site.switch.folder / "log" / "queue_log"),
    }
    site.monitor = start_monitor(site.folder, relay.port, site.store, "", site.rules, login)
    try:
        yield
    finally:
        site.monitor.stop()
        site.start_monitor()


def test_the_ami_link_dead_without_a_word_while_a_caller_waits(site: Site):
    """The monitor's AMI link goes silent (no FIN, no RST) while a caller waits, and the caller gives up: the
    board must not go on showing the caller and a live link. The monitor's Ping goes unanswered, it drops the
    session, shows the link down and, reconnected, rebuilds the board from QueueStatus."""
    agent = site.agent(QUEUE, "8005", "ring")
    assert site.switch is not None
    with closing(Link(site.switch.ami_port)) as relay, monitor_over(site, relay):
        try:
            wait_for("the monitor over the relay", lambda: relay.opened == 1 and link(site)["up"])
            call = site.call("12345", caller="13900000006")
            joined(site, [call])
            wait_for("the caller on the board", lambda: [c[0] for c in waiting(site)] == [call.inbound])
            relay.cut()
            site.hang_up(call)
            site.hung_up(call)
            gave_up(site, [call])
            assert site.monitor is not None
            wait_for("link down", lambda: "AMI link down: no answer from Asterisk" in site.monitor.log_text(), 40)
            wait_for("reconnected, the board rebuilt", lambda: relay.opened == 2 and waiting(site) == [], 40)
            assert link(site)["up"]
            listed(site, [call])  # its QueueCallerAbandon was lost on the dead link; queue_log has the ABANDON
        finally:
            site.logoff(QUEUE, agent)


def test_asterisk_restarted_while_a_caller_waits(site: Site):
    """`core restart now`: Asterisk hangs up every call, the waiting caller leaves by ABANDON (its own word),
    then Shutdown; the monitor shows the link down and rebuilds the board from the new Asterisk's QueueStatus.
    The agent, a dynamic member, is back (persistentmembers of the generated queues.conf)."""
    agent = site.agent(QUEUE, "8003", "ring")
    try:
        call = site.call("12345", caller="13900000004")
        joined(site, [call])
        wait_for("the caller on the board", lambda: [c[0] for c in waiting(site)] == [call.inbound])
        assert site.switch is not None and site.monitor is not None
        before = link(site)["since"]
        old = site.switch.restart()
        old.wait_event("QueueCallerAbandon", 1, call.since, Uniqueid=call.inbound)
        assert [m.get("Restart") for m in old.select("Shutdown", call.since)] == ["True"]
        wait_for("link down", lambda: "AMI link down: Asterisk shut down (Cleanly)" in site.monitor.log_text())
        wait_for("the new board", lambda: link(site)["up"] and link(site)["since"] > before, timeout=60)
        shown = next(q for q in view(site)["queues"] if q["queue"] == QUEUE)
        assert shown["waiting"] == [] and [m["interface"] for m in shown["members"]] == [agent]
        gave_up(site, [call])
        listed(site, [call])
    finally:
        site.logoff(QUEUE, agent)


def test_todays_figures_after_every_outage_are_queue_logs_everywhere(site: Site):
    """After the restarts, the kicked session, the dead link and Asterisk's restart: each caller counted once, as
    queue_log counts them, on `ivr queues --json`, `/state.json` and `/metrics`."""
    figures = agrees_with_queue_log(site, QUEUE)
    assert figures["abandoned"] >= 5, figures
    web = start_web(site.folder, site.store, site.rules, "--spool", str(site.folder / "spool"))
    try:
        wallboard_agrees(web.port, QUEUE, figures)
    finally:
        web.stop()
