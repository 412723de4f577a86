"""Test transports in Twisted's style: StringTransport with the TCP bits the session uses."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport


class TcpTransport(StringTransport):
    """Records keep-alive and half-close; `closed` once the session aborted or half-closed."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(peerAddress=IPv4Address("TCP", host, 40000))
        self.keepalive = False
        self.write_closed = False
        self.aborted = False

    def setTcpKeepAlive(self, enabled: int) -> None:
        self.keepalive = bool(enabled)

    def loseWriteConnection(self) -> None:
        self.write_closed = True

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()

    def take(self) -> bytes:
        data = self.value()
        self.clear()
        return data
