"""The FastAGI service: who may connect, how many at once, which rules new calls get, and a clean stop."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory

from ivr.rules.model import Rules
from ivr.runtime.rulesholder import RulesHolder
from ivr.serve.limits import Limits
from ivr.serve.session import FastAgiSession
from ivr.tickets.writer import TicketWriter

log = logging.getLogger("ivr.serve")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")


def parse_allow(items: Iterable[str]) -> tuple[Network, ...]:
    """CIDR networks (or single addresses) allowed to connect; ValueError names the bad one."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {item.strip()!r}") from None
    return tuple(networks)


class AgiService(Factory):
    def __init__(
        self,
        holder: RulesHolder[Limits],
        clock: IReactorTime,
        allow: tuple[Network, ...] = parse_allow(LOOPBACK),
        max_sessions: int = 5000,
        now: Callable[[Rules], datetime] = lambda rules: datetime.now(rules.timezone),
        tickets: TicketWriter | None = None,
    ) -> None:
        self.holder = holder
        self.clock = clock
        self.allow = allow
        self.max_sessions = max_sessions
        self.now = now
        self.tickets = tickets
        self.sessions: set[FastAgiSession] = set()

    def buildProtocol(self, addr: object) -> FastAgiSession:
        return FastAgiSession(self, self.clock)

    def refusal(self, host: str) -> str | None:
        """Why a new session is closed at once (without a command, so the dialplan fallback takes the call)."""
        try:
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return "not an IP address"
        if not any(address in network for network in self.allow):
            return "not in the allowlist (--allow)"
        if len(self.sessions) >= self.max_sessions:
            return f"{self.max_sessions} sessions already (--max-sessions): the dialplan fallback takes the call"
        return None
