"""The AMI client on Twisted: log in, take a QueueStatus snapshot, keep the queue board current, and come back
after Asterisk restarts.

Credentials come from the environment (IVR_AMI_USER, IVR_AMI_SECRET or IVR_AMI_SECRET_FILE), never from code or
logs. A bad secret gets `Authentication failed` and Asterisk closes about 1 s later: that is logged once (until a
login succeeds again) and retried with the factory's growing delay. `Event: Shutdown` or a lost connection marks
the link down; every (re)connect rebuilds the board from a snapshot, since events during the outage are lost.
ActionIDs are `<action>-<n>`, the scheme of the captured sessions, so a replay of them matches byte for byte.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from twisted.internet import task
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol, ReconnectingClientFactory
from twisted.python.failure import Failure

from ivr.ami.board import CallbackEnded, Fact, QueueBoard, channel_variable
from ivr.ami.protocol import ActionTracker, AmiParser, AmiProtocolError, Banner, Completed, Message, format_action
from ivr.secrets import secret_from_environment

log = logging.getLogger("ivr.ami")
# A link that dies without a FIN or RST (a cable pulled, a firewall dropping state, a host gone) looks idle, and a
# queue may be quiet for minutes: a Ping every PING_SECONDS that is still unanswered at the next one drops the
# session, so the board says the link is down instead of showing callers long gone.
PING_SECONDS = 10.0


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secret=<hidden>)"

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None, prefix: str = "IVR_AMI") -> Credentials:
        """PREFIX_USER and PREFIX_SECRET (or PREFIX_SECRET_FILE): the monitor's login is IVR_AMI_*, the admin's
        (`ivr deploy`, `ivr doctor`) IVR_ADMIN_AMI_*."""
        env = os.environ if environ is None else environ
        username = env.get(f"{prefix}_USER", "")
        secret = secret_from_environment(f"{prefix}_SECRET", env)
        if not username or not secret:
            raise ValueError(f"set {prefix}_USER and {prefix}_SECRET (or {prefix}_SECRET_FILE) for the AMI login")
        return cls(username, secret)


class AmiSession(Protocol):
    """One AMI connection, from banner to close."""

    def __init__(self, monitor: AmiMonitor) -> None:
        self.monitor = monitor
        self.parser = AmiParser()
        self.tracker = ActionTracker()
        self.logged_in = False
        self.lines_asked: dict[str, str] = {}  # Getvar ActionID -> uniqueid of a waiting caller
        self.pinger = task.LoopingCall(self._ping)
        self.pinger.clock = monitor.clock
        self.ping_unanswered = ""  # the ActionID of the last Ping while no answer has come

    def send(self, action: str, fields: list[tuple[str, str]] | None = None) -> str:
        action_id = self.monitor.next_action_id(action)
        self.tracker.sent(action_id)
        self.transport.write(format_action(action, action_id, fields or []))
        return action_id

    def dataReceived(self, data: bytes) -> None:
        self.monitor.heard_at = self.monitor.clock.seconds()
        try:
            items = self.parser.feed(data)
        except AmiProtocolError as exc:
            log.error("AMI: %s: reconnecting", exc)
            self.transport.loseConnection()
            return
        for item in items:
            if isinstance(item, Banner):
                creds = self.monitor.credentials
                self.send("Login", [("Username", creds.username), ("Secret", creds.secret), ("Events", "on")])
            else:
                self._message(item)

    def _message(self, message: Message) -> None:
        result = self.tracker.feed(message)
        if isinstance(result, Completed):
            self._completed(result)
        elif result is not None:
            if result.event == "Shutdown":
                self.monitor.link_down(f"Asterisk shut down ({result.get('Shutdown') or 'unknown'})")
            self.monitor.facts(self.monitor.board.apply(result, self.monitor.clock.seconds()))
        elif message.list_state == "start":
            self.monitor.board.begin_snapshot()

    def _completed(self, answer: Completed) -> None:
        action = answer.action_id.rsplit("-", 1)[0]
        if action == "login":
            if answer.ok:
                self.logged_in = True
                self.monitor.session = self
                self.monitor.link_up()
                self.send("QueueStatus")
                self.pinger.start(PING_SECONDS, now=False)
            else:
                self.monitor.login_refused(answer.response.get("Message") or "refused")
                self.transport.loseConnection()
        elif action == "queuestatus":
            for item in answer.items:
                self.monitor.board.apply(item, self.monitor.clock.seconds())
                if item.event == "QueueEntry" and not channel_variable(item, "IVR_LINE"):
                    self._ask_line(item)
            self.monitor.board.finish_snapshot()
            self.monitor.snapshots += 1
        elif action == "getvar":
            self._line_answered(answer)
        elif action == "ping":
            self.ping_unanswered = ""
        elif action == "originate" and not answer.ok:
            # Refused outright (e.g. "Permission denied": the AMI user lacks `originate`): no OriginateResponse
            # will follow, so the attempt ends here.
            why = answer.response.get("Message") or answer.response.response or "refused"
            self.monitor.facts([CallbackEnded(answer.action_id, "", f"REFUSED {why}")])

    def _ask_line(self, entry: Message) -> None:
        """QueueStatus's QueueEntry carries no channelvars (apps/app_queue.c, manager_queues_status): a caller
        who joined before this session (a monitor restarted, a link back up) would show without the original
        line. Getvar asks the caller's channel for it (class call or reporting: the user's write = reporting)."""
        channel, uniqueid = entry.get("Channel") or "", entry.get("Uniqueid") or ""
        if channel and uniqueid:
            self.lines_asked[self.send("Getvar", [("Channel", channel), ("Variable", "IVR_LINE")])] = uniqueid

    def _line_answered(self, answer: Completed) -> None:
        uniqueid = self.lines_asked.pop(answer.action_id, "")
        if answer.ok:
            self.monitor.board.learn_line(uniqueid, answer.response.get("Value") or "")

    def _ping(self) -> None:
        if self.ping_unanswered:
            self.monitor.link_down(f"no answer from Asterisk for {PING_SECONDS:.0f} s")
            self.transport.abortConnection()
            return
        self.ping_unanswered = self.send("Ping")

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self.pinger.running:
            self.pinger.stop()
        if self.monitor.session is self:
            self.monitor.session = None
        if self.monitor.up:  # else the link is already down, for a reason worth keeping (shutdown, refusal)
            self.monitor.link_down("connection lost")


class AmiMonitor(ReconnectingClientFactory):
    """Keeps one AMI session alive and the board current; `on_facts` gets what the events tell about calls."""

    maxDelay = 30
    initialDelay = 1.0

    def __init__(
        self,
        credentials: Credentials,
        clock: IReactorTime,
        on_facts: Callable[[list[Fact]], None] = lambda f: None,
        on_link_up: Callable[[float | None], None] = lambda since: None,
    ) -> None:
        """`on_link_up(since)` is told when events flow again after none could be seen from `since` (epoch; None:
        this process has not watched yet), so what Asterisk logged meanwhile can be read back (queue_log)."""
        self.credentials = credentials
        self.clock = clock
        self.board = QueueBoard()
        self.on_facts = on_facts
        self.on_link_up = on_link_up
        self.heard_at = 0.0  # when Asterisk last sent anything: on a link that dies silently, where the gap begins
        self.unwatched_since: float | None = None
        self.up = False
        self.session: AmiSession | None = None  # the logged-in session, to send actions on
        self.link_since = clock.seconds()
        self.link_why = "not connected yet"
        self.snapshots = 0
        self._ids = 0
        self._refusal_logged = False
        self._unreachable_logged = False

    def buildProtocol(self, addr: object) -> AmiSession:
        session = AmiSession(self)
        session.factory = self
        return session

    def next_action_id(self, action: str) -> str:
        self._ids += 1
        return f"{action.lower()}-{self._ids}"

    def facts(self, facts: list[Fact]) -> None:
        if facts:
            self.on_facts(facts)

    def link_up(self) -> None:
        self.resetDelay()
        self._refusal_logged = self._unreachable_logged = False
        if not self.up:
            log.info("AMI link up as %s", self.credentials.username)
            self.link_since, self.link_why = self.clock.seconds(), "logged in"
            self.up = True
            self.on_link_up(self.unwatched_since)

    def link_down(self, why: str) -> None:
        if self.up:
            log.warning("AMI link down: %s; reconnecting with backoff", why)
            self.link_since = self.clock.seconds()
            self.unwatched_since = min(self.heard_at or self.link_since, self.link_since)
        self.link_why = why
        self.up = False

    def clientConnectionFailed(self, connector: object, reason: Failure) -> None:
        self.link_down(f"cannot connect: {reason.getErrorMessage().rstrip('.')}")
        if not self._unreachable_logged:
            log.error("AMI %s; retrying with backoff", self.link_why)
            self._unreachable_logged = True
        super().clientConnectionFailed(connector, reason)

    def link(self) -> dict[str, object]:
        """The link's state for dashboards: up or not, since when (epoch seconds) and why."""
        return {"up": self.up, "since": self.link_since, "why": self.link_why}

    def login_refused(self, message: str) -> None:
        self.link_why = f"login refused: {message}"
        if not self._refusal_logged:
            log.error("AMI login as %s refused: %s; retrying with backoff", self.credentials.username, message)
            self._refusal_logged = True
