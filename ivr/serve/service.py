"""The FastAGI service: who may connect, how many at once, which rules new calls get, and a clean stop.

The allowlist also names Asterisk hosts: `ast-a=10.0.0.11` lets 10.0.0.11 in and calls the host it is `ast-a`
(ivr.hosts), which keeps its calls apart from every other host's when it has no `systemname`."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory

from ivr.hosts import address_name, check_host_name
from ivr.rules.model import Rules
from ivr.runtime.rulesholder import RulesHolder
from ivr.serve.limits import Limits
from ivr.serve.session import FastAgiSession
from ivr.tickets.writer import TicketWriter

log = logging.getLogger("ivr.serve")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")
PEERS_KNOWN = 1024  # addresses whose verdict is kept; Asterisk hosts are a handful, a scan is not kept whole


@dataclass(frozen=True)
class Allowed:
    """Peers let in, and the name of the Asterisk host at that address ("": named by its address)."""

    network: Network
    name: str = ""


def parse_allow(items: Iterable[str]) -> tuple[Allowed, ...]:
    """CIDR networks or single addresses allowed to connect, each single address optionally named (`NAME=ADDRESS`);
    ValueError names the bad one."""
    entries = []
    for item in items:
        name, _, where = item.strip().rpartition("=")
        try:
            network = ipaddress.ip_network(where, strict=False)
        except ValueError:
            raise ValueError(f"not an address or network: {where!r}") from None
        if name:
            check_host_name(name)
            if network.num_addresses != 1:
                raise ValueError(f"{item.strip()!r}: a name is for one Asterisk host, so for one address")
        entries.append(Allowed(network, name))
    return tuple(entries)


class AgiService(Factory):
    def __init__(
        self,
        holder: RulesHolder[Limits],
        clock: IReactorTime,
        allow: tuple[Allowed, ...] = parse_allow(LOOPBACK),
        max_sessions: int = 5000,
        now: Callable[[Rules], datetime] = lambda rules: datetime.now(rules.timezone),
        tickets: TicketWriter | None = None,
    ) -> None:
        self.holder = holder
        self.clock = clock
        self.max_sessions = max_sessions
        self.now = now
        self.tickets = tickets
        self.sessions: set[FastAgiSession] = set()
        # Each session asks about its peer's address twice: parsed and matched once per address, not per call.
        self._peer = lru_cache(maxsize=PEERS_KNOWN)(partial(_peer, allow))

    def buildProtocol(self, addr: object) -> FastAgiSession:
        return FastAgiSession(self, self.clock)

    def refusal(self, host: str) -> str | None:
        """Why a new session is closed at once (without a command, so the dialplan fallback takes the call)."""
        refused, _ = self._peer(host)
        if refused:
            return refused
        if len(self.sessions) >= self.max_sessions:
            return f"{self.max_sessions} sessions already (--max-sessions): the dialplan fallback takes the call"
        return None

    def host_of(self, address: str) -> str:
        """The name the allowlist gives the Asterisk host at `address`, else its address's (ivr.hosts)."""
        return self._peer(address)[1]


def _peer(allow: tuple[Allowed, ...], host: str) -> tuple[str, str]:
    """Why the allowlist refuses `host` ("": it does not), and the name of the Asterisk host there."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return "not an IP address", ""
    if not any(address in entry.network for entry in allow):
        return "not in the allowlist (--allow)", ""
    named = (entry.name for entry in allow if entry.name and address in entry.network)
    return "", next(named, "") or address_name(host)
