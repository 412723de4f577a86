"""A blocking AMI client for the tests' judge: every event a real Asterisk sends, kept in order, and waits for the
event that says something happened (never a sleep). Framing is the project's own parser, which the captures check."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ivr.ami.protocol import AmiParser, AmiProtocolError, Banner, Message, format_action

Predicate = Callable[[Message], bool]
T = TypeVar("T")


class AmiError(AssertionError):
    """Asterisk refused an action, or the awaited event never came: the test fails with what was seen."""


class Ami:
    def __init__(self, port: int, user: str, secret: str, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(None)
        self.parser = AmiParser()
        self.events: list[Message] = []
        self.responses: dict[str, Message] = {}
        self.lists: dict[str, list[Message]] = {}
        self.closed = False
        self.broken = ""  # why the reader stopped on bytes that are not AMI: every wait then says so
        self.changed = threading.Condition()
        self.ids = itertools.count(1)
        self.reader = threading.Thread(target=self._read, name="ami-judge", daemon=True)
        self.reader.start()
        login = self.action("Login", Username=user, Secret=secret)
        if login.response != "Success":
            raise AmiError(f"AMI login as {user} refused: {login.get('Message')}")

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def action(self, name: str, timeout: float = 15.0, **fields: str) -> Message:
        """Send an action and return its response (for list actions, once the list is complete)."""
        action_id = f"judge-{next(self.ids)}"
        with self.changed:
            self.lists[action_id] = []
        self.sock.sendall(format_action(name, action_id, list(fields.items())))
        response = self._until(lambda: self.responses.get(action_id), timeout, f"the response to {name}")
        if response.get("EventList") == "start":
            self._until(
                lambda: any(m.get("EventList") == "Complete" for m in self.lists[action_id]) or None,
                timeout,
                f"the end of {name}'s list",
            )
        return response

    def listed(self, name: str, timeout: float = 15.0, **fields: str) -> list[Message]:
        """The events of a list action (QueueStatus, CoreShowChannels), without its Complete event."""
        response = self.action(name, timeout, **fields)
        if response.response != "Success":
            raise AmiError(f"{name} refused: {response.get('Message')}")
        action_id = response.action_id or ""
        return [m for m in self.lists.pop(action_id, []) if m.get("EventList") != "Complete"]

    def wait_hangup(self, uniqueid: str, timeout: float, since: int = 0, originate: str = "") -> Message:
        """The Hangup of channel `uniqueid`. `originate`: the ActionID of the async Originate that asked for it; if
        Asterisk answered it with a failed OriginateResponse and never created the channel (a uniqueid already in
        use, no such extension), that fails at once with Asterisk's reason instead of after `timeout`."""

        def found() -> Message | None:
            seen = [m for m in self.events[since:] if m.get("Uniqueid") == uniqueid]
            hangup = next((m for m in seen if m.event == "Hangup"), None)
            if hangup is None and not seen:
                failed = [m for m in self.lists.get(originate, []) if m.event == "OriginateResponse"]
                if failed and failed[0].get("Response") != "Success":
                    raise AmiError(f"Asterisk never created {uniqueid}: {_line(failed[0])}")
            return hangup

        return self._until(found, timeout, f"Hangup of {uniqueid}")

    def mark(self) -> int:
        """A place in the event history: waits from here on ignore what came before."""
        with self.changed:
            return len(self.events)

    def wait_for(self, predicate: Predicate, timeout: float = 30.0, since: int = 0, what: str = "") -> Message:
        def found() -> Message | None:
            return next((m for m in self.events[since:] if predicate(m)), None)

        return self._until(found, timeout, what or "an awaited event")

    def wait_event(self, event: str, timeout: float = 30.0, since: int = 0, **fields: str) -> Message:
        return self.wait_for(
            lambda m: m.event == event and all(m.get(k) == v for k, v in fields.items()),
            timeout,
            since,
            f"{event} {fields}",
        )

    def wait_command(self, uniqueid: str, command: str, timeout: float, since: int = 0, what: str = "") -> Message:
        """The engine's AGI command on channel `uniqueid` that starts with `command`, as Asterisk ran it
        (AGIExecStart)."""
        return self.wait_for(
            lambda m: (
                m.event == "AGIExecStart"
                and m.get("Uniqueid") == uniqueid
                and (m.get("Command") or "").startswith(command)
            ),
            timeout,
            since,
            what or f"{command!r} on {uniqueid}",
        )

    def select(self, event: str, since: int = 0, **fields: str) -> list[Message]:
        with self.changed:
            return [
                m for m in self.events[since:] if m.event == event and all(m.get(k) == v for k, v in fields.items())
            ]

    def _until(self, found: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                value = found()
                if value is not None:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    recent = "\n".join(_line(m) for m in self.events[-30:])
                    raise AmiError(f"no {what} within {timeout:.0f} s {self.broken}; the last events:\n{recent}")
                self.changed.wait(min(left, 0.5))

    def _read(self) -> None:
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.changed:
                if not data:
                    self.closed = True
                    self.changed.notify_all()
                    return
                try:
                    items = self.parser.feed(data)
                except AmiProtocolError as exc:
                    self.broken, self.closed = f"the judge's AMI reader stopped: {exc}", True
                    self.changed.notify_all()
                    return
                for item in items:
                    if isinstance(item, Banner):
                        continue
                    self._file(item)
                self.changed.notify_all()

    def _file(self, message: Message) -> None:
        action_id = message.action_id
        if message.event is None and action_id is not None:
            self.responses[action_id] = message
        elif action_id is not None and action_id in self.lists:
            self.lists[action_id].append(message)
        else:
            self.events.append(message)


def _line(message: Message) -> str:
    return " ".join(f"{k}={v}" for k, v in message.fields[:8])
