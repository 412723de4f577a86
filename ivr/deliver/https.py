"""One department's address: POSTs over one kept-alive HTTPS connection, the certificate always verified (against
the system's CAs, or the link's `ca_file`). Blocking: the deliverer calls it in a thread."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ivr.rules.model import Delivery


@dataclass(frozen=True)
class Answer:
    status: int
    line: str  # the status line's reason, and the body's first line: what an operator reads of a refusal


class Unreachable(Exception):
    """No answer: refused, reset, timed out, TLS refused. The message says which, never holds a secret."""


class Department:
    def __init__(self, delivery: Delivery) -> None:
        parts = urlsplit(delivery.url)
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = delivery.timeout
        self.tls = parts.scheme == "https"
        self.context = ssl.create_default_context(cafile=delivery.ca_file or None) if self.tls else None
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        reused = self._connection is not None
        connection = self._connect()
        try:
            connection.request("POST", self.path, body=body, headers=headers)
            response = connection.getresponse()
            first = response.read(4096).decode("utf-8", "replace").strip().splitlines()
        except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLEOFError) as exc:
            self.close()
            if reused:  # the department closed the idle connection before reading this request: a new one
                return self.post(body, headers)
            raise Unreachable(_why(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unreachable(_why(exc)) from None
        if response.will_close:
            self.close()
        line = f"{response.status} {response.reason}" + (f": {first[0][:200]}" if first else "")
        return Answer(response.status, line)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self.context is not None:
                self._connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self.context
                )
            else:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._connection


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate refused: {exc.verify_message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
