"""A blocking AMI connection for the admin's one-shot commands (`ivr deploy`, `ivr doctor`): log in, ask, read
the answers and the events in order, log off. The long-running monitor has its own Twisted client; a command that
asks a dozen questions and ends needs no reactor. Framing and matching are the same as the monitor's
(ivr.ami.protocol)."""

from __future__ import annotations

import contextlib
import itertools
import socket
import time
from collections.abc import Callable
from types import TracebackType

from ivr.ami.protocol import ActionTracker, AmiParser, AmiProtocolError, Banner, Completed, Message, format_action


class AmiUnavailable(Exception):
    """No AMI session: the host did not answer, is not Asterisk, or refused the login. The message says which."""


class BlockingAmi:
    def __init__(self, host: str, port: int, username: str, secret: str, timeout: float = 10.0) -> None:
        self.where = f"{host}:{port}"
        self.username = username
        self.timeout = timeout
        self.events: list[Message] = []
        self.version = ""
        self._parser = AmiParser()
        self._tracker = ActionTracker()
        self._answers: dict[str, Completed] = {}
        self._ids = itertools.count(1)
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise AmiUnavailable(f"AMI at {self.where}: {exc.strerror or exc}") from None
        try:
            self._login(secret)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> BlockingAmi:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _login(self, secret: str) -> None:
        login = self.action("Login", Username=self.username, Secret=secret)
        if not login.ok:
            reason = login.response.get("Message") or "refused"
            raise AmiUnavailable(f"AMI at {self.where}: login as {self.username} refused ({reason})")

    def action(self, name: str, **fields: str) -> Completed:
        """Send one action and wait for its whole answer (a list action's items until its Complete event)."""
        action_id = f"ivr-{next(self._ids)}"
        self._tracker.sent(action_id)
        try:
            self._sock.sendall(format_action(name, action_id, list(fields.items())))
        except OSError as exc:
            raise AmiUnavailable(f"AMI at {self.where}: {exc.strerror or exc}") from None
        self._read_until(lambda: action_id in self._answers, f"the answer to {name}")
        return self._answers.pop(action_id)

    def wait_event(self, found: Callable[[Message], bool], seconds: float, what: str) -> Message | None:
        """The first event (since the connection opened) that `found` accepts, waiting up to `seconds`; None if
        none came."""
        deadline = time.monotonic() + seconds
        while True:
            hit = next((event for event in self.events if found(event)), None)
            if hit is not None or time.monotonic() >= deadline:
                return hit
            self._read_once(deadline, what, quiet=True)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def _read_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not done():
            if time.monotonic() >= deadline:
                raise AmiUnavailable(f"AMI at {self.where}: no answer within {self.timeout:.0f} s to {what}")
            self._read_once(deadline, what, quiet=False)

    def _read_once(self, deadline: float, what: str, quiet: bool) -> None:
        self._sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            return
        except OSError as exc:
            raise AmiUnavailable(f"AMI at {self.where}: {exc.strerror or exc} while waiting for {what}") from None
        if not data:
            if quiet:
                return
            raise AmiUnavailable(f"AMI at {self.where}: closed the connection while waiting for {what}")
        try:
            items = self._parser.feed(data)
        except AmiProtocolError as exc:
            raise AmiUnavailable(f"AMI at {self.where}: not Asterisk's manager interface ({exc})") from None
        for item in items:
            if isinstance(item, Banner):
                self.version = item.version
                continue
            matched = self._tracker.feed(item)
            if isinstance(matched, Completed):
                self._answers[matched.action_id] = matched
            elif isinstance(matched, Message):
                self.events.append(matched)
