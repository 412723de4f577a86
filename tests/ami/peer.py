"""A loopback AMI peer that answers like the captured Asterisk 22: every byte it sends is cut from a transcript
in tests/data/asterisk-transcripts (only ActionIDs are renamed to the client's, as Asterisk echoes them).

- banner: the captured one; an action before Login: the captured `Permission denied`;
- Login as lab/labpass: the captured `Authentication accepted`; any other secret: the captured `Authentication
  failed`, and the connection closed REFUSED_CLOSE_SECONDS later, as Asterisk does (about 1 s);
- QueueStatus (all queues): the captured all-queue snapshot (ami-actions, queuestatus-6); Originate: the captured
  `Originate successfully queued`; Logoff: `Goodbye`; any other action: the captured `Invalid/unknown command`;
- `play(name)`: the events of a captured session, in order, to the logged-in client;
- `shutdown()`: the captured shutdown (channels hung up, `Event: Shutdown`), then the connection closed, as
  `core stop now` did. Until `come_back()` every new connection is closed at once, as a stopped Asterisk refuses
  them: a test sees the link down for as long as it looks, however quickly the monitor retries.
Threads and blocking sockets: it runs beside a real `ivr monitor` process. Stops with `close()`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.transcripts import ASTERISK, read_transcript

LAB_USER = "lab"
LAB_SECRET = "labpass"
REFUSED_CLOSE_SECONDS = 1.0


def asterisk_side(name: str) -> list[bytes]:
    return [text for d, text in read_transcript(name) if d == ASTERISK]


def block(lines: list[bytes], action_id: bytes, rename: bytes | None = None) -> bytes:
    """Every message of the session that carries `action_id`, renamed to the client's id if asked."""
    out, current = [], []
    for line in lines[1:]:
        current.append(line)
        if line == b"":
            if b"ActionID: " + action_id in current:
                out += [x.replace(action_id, rename) if rename else x for x in current]
            current = []
    return b"".join(x + b"\r\n" for x in out)


def events_only(lines: list[bytes]) -> bytes:
    """The session's events, without the responses to the capture client's own actions."""
    out, current = [], []
    for line in lines[1:]:
        current.append(line)
        if line == b"":
            if current[0].startswith(b"Event: ") and not any(x.startswith(b"ActionID: ") for x in current):
                out += current
            current = []
    return b"".join(x + b"\r\n" for x in out)


def captured_user_event(name: str, fields: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """ami-02's captured UserEvent (LabAfterAGI) with its own fields replaced by `name` and `fields`, as the
    generated dialplan's UserEvent(NAME,Key: value,...) sends them: the channel part stays Asterisk's."""
    lines = events_only(asterisk_side("ami-02-queue-connect.txt")).split(b"\r\n\r\n")
    captured = next(m for m in lines if b"UserEvent: LabAfterAGI" in m).decode().split("\r\n")
    head = [tuple(line.split(": ", 1)) for line in captured]
    own = {"UserEvent", "AGISTATUS", "IVR_LINE", "DIALSTATUS", "QUEUESTATUS"}
    return (*((k, v) for k, v in head if k not in own), ("UserEvent", name), *fields)


def wire(fields: tuple[tuple[str, str], ...]) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in fields) + b"\r\n"


ACTIONS = asterisk_side("ami-actions.txt")
BAD = asterisk_side("ami-login-bad.txt")
BANNER = ACTIONS[0] + b"\r\n"
ANSWERS = {
    "login": block(ACTIONS, b"login-1"),
    "refused": block(BAD, b"login-bad-1"),
    "denied": block(BAD, b"ping-1"),
    "queuestatus": block(ACTIONS, b"queuestatus-6"),
    "logoff": block(ACTIONS, b"logoff-16"),
    "unknown": block(ACTIONS, b"nosuchaction-14"),
    "originate": block(ACTIONS, b"originate-8"),
}
CAPTURED_IDS = {
    "login": b"login-1",
    "refused": b"login-bad-1",
    "denied": b"ping-1",
    "queuestatus": b"queuestatus-6",
    "logoff": b"logoff-16",
    "unknown": b"nosuchaction-14",
    "originate": b"originate-8",
}


class AmiPeer:
    def __init__(self, secret: str = LAB_SECRET) -> None:
        self.secret = secret
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.logins = 0
        self.refusals = 0
        self.actions: list[str] = []
        self.received: list[dict[str, list[str]]] = []  # every action's fields, repeated keys kept
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closed = False
        self._down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> AmiPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        self._drop()

    def play(self, name: str) -> None:
        """Send a captured session's events to the logged-in client."""
        self._send(events_only(asterisk_side(name)))

    def send(self, data: bytes) -> None:
        """Bytes to the logged-in client (a message the test derived from a captured one)."""
        self._send(data)

    def shutdown(self) -> None:
        """Asterisk stops: its captured last events, then the connection closes."""
        self._send(events_only(asterisk_side("ami-shutdown.txt")))
        self._down = True
        self._drop()

    def come_back(self) -> None:
        """Asterisk is running again: connections are answered with the banner."""
        self._down = False

    def wait_logins(self, count: int, timeout: float = 20.0) -> None:
        self._wait(lambda: self.logins >= count, timeout, f"{count} login(s)")

    def wait_actions(self, action: str, count: int, timeout: float = 20.0) -> None:
        self._wait(lambda: self.actions.count(action) >= count, timeout, f"{count} {action}")

    def _wait(self, done: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():  # type: ignore[operator]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"AMI peer: no {what} within {timeout:.0f} s (saw {self.actions})")
                self._changed.wait(left)

    def _send(self, data: bytes) -> None:
        with self._lock:
            client = self._client
        if client is None:
            raise RuntimeError("AMI peer: no client logged in")
        client.sendall(data)

    def _drop(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self._down:
                _close(conn)
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        logged_in = False
        buffer = b""
        with contextlib.suppress(OSError):
            conn.sendall(BANNER)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buffer += data
                while b"\r\n\r\n" in buffer:
                    raw, buffer = buffer.split(b"\r\n\r\n", 1)
                    pairs = [line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line]
                    with self._lock:
                        self.received.append({k: [v for key, v in pairs if key == k] for k, _ in pairs})
                    logged_in = self._answer(conn, dict(pairs), logged_in)
        with contextlib.suppress(OSError):
            conn.close()

    def _answer(self, conn: socket.socket, fields: dict[str, str], logged_in: bool) -> bool:
        action = fields.get("Action", "").lower()
        action_id = fields.get("ActionID", "").encode()
        with self._changed:
            self.actions.append(action)
            self._changed.notify_all()
        if action == "login":
            ok = fields.get("Username") == LAB_USER and fields.get("Secret") == self.secret
            kind = "login" if ok else "refused"
        elif not logged_in:
            kind = "denied"
        else:
            kind = action if action in ("queuestatus", "logoff", "originate") else "unknown"
        conn.sendall(ANSWERS[kind].replace(CAPTURED_IDS[kind], action_id))
        if kind == "login":
            with self._changed:
                self._client = conn
                self.logins += 1
                self._changed.notify_all()
            return True
        if kind == "refused":
            with self._changed:
                self.refusals += 1
                self._changed.notify_all()
            threading.Timer(REFUSED_CLOSE_SECONDS, _close, args=(conn,)).start()
        if kind == "logoff":
            _close(conn)
        return logged_in


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
