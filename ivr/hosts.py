"""How an Asterisk host is named, and the key that finds a call again whichever host it came from.

Asterisk numbers its channels `EPOCH.SEQUENCE` (channel_internal_api.c), counting from 0 at every start, so two
servers hand out the same uniqueids; with `systemname` set in asterisk.conf it numbers them `NAME-EPOCH.SEQUENCE`
instead. The rule, the same for the engine (AGI) and the monitor (AMI, queue_log), in this order:

1. the `systemname` that leads the uniqueid: Asterisk's own word, the same on every connection to that host;
2. else the name the host is given: the engine's allowlist entry (`--allow ast-a=10.0.0.11`), the monitor's
   `--asterisk-name`;
3. else its address as the engine or monitor sees it, with every loopback address named `local`, so that an
   engine and a monitor on the Asterisk host itself agree without being told.

A call is found again by its key: the uniqueid alone for a `local` host and wherever it already carries its
`systemname` (so stores written before hosts were named read on unchanged), else `HOST/UNIQUEID`. The same channel
asking twice (a reconnect, a replayed stub) gives the same key; two hosts with distinct names never share one.
Pure: no I/O, so `ivr serve`, `ivr monitor`, the stores and an admin's checks all use this one rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

LOCAL = "local"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,62}")
_SYSTEMNAME = re.compile(r"(?P<name>.+)-\d+\.\d+")


def check_host_name(name: str) -> str:
    """ValueError unless `name` can name an Asterisk host: letters, digits, `.`, `_`, `:`, `-`, at most 63, no `/`
    (it separates the host from the uniqueid in a key)."""
    if not NAME.fullmatch(name):
        raise ValueError(f"host name {name!r}: 1 to 63 letters, digits, '.', '_', ':' or '-' (e.g. ast-a)")
    return name


def systemname(uniqueid: str) -> str:
    """The `systemname` Asterisk put before the uniqueid's `EPOCH.SEQUENCE`, "" when it has none."""
    match = _SYSTEMNAME.fullmatch(uniqueid)
    return match["name"] if match else ""


def address_name(address: str) -> str:
    """The name of a host known only by its address: `local` for a loopback address or `localhost`, else the
    address in its usual form (an IPv6 zone dropped) or the host name as written, lowercased."""
    if address.lower() == "localhost":
        return LOCAL
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address.lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return LOCAL if ip.is_loopback else str(ip)


def host_name(uniqueid: str, given: str) -> str:
    """The host of a call: its uniqueid's `systemname`, else `given` (a configured name, or `address_name`)."""
    return systemname(uniqueid) or given


def call_key(host: str, uniqueid: str) -> str:
    """What a store finds a call by. `host` "" is a stub or fact written before hosts were named: `local`."""
    if host in ("", LOCAL) or host == systemname(uniqueid):
        return uniqueid
    return f"{host}/{uniqueid}"


def confusions(hosts: Mapping[str, str]) -> list[str]:
    """Why calls of some Asterisk hosts could be taken for each other's, one line each ([] when none): `hosts`
    maps how each host is known (its address, its configuration file) to the name it gets (`host_name`'s
    `given`, or its `systemname`). Two hosts named alike share every uniqueid's key."""
    by_name: dict[str, list[str]] = {}
    for where, name in hosts.items():
        by_name.setdefault(name, []).append(where)
    return [
        f"Asterisk hosts {', '.join(sorted(wheres))} are all named {name!r}: their calls' uniqueids collide; set a "
        "distinct systemname in each asterisk.conf (or name each in --allow and --asterisk-name)"
        for name, wheres in sorted(by_name.items())
        if len(wheres) > 1
    ]


def host_port(part: str, default_port: int) -> tuple[str, int]:
    """`HOST`, `HOST:PORT` or `[IPv6]:PORT` (a Redis server or sentinel, another Asterisk's AMI); ValueError
    saying what is wrong."""
    if part.startswith("["):  # [IPv6]:PORT
        host, _, rest = part[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = part.partition(":")
    if not host:
        raise ValueError(f"{part!r}: a host is missing (HOST:PORT)")
    if port_text and not (port_text.isdigit() and 0 < int(port_text) <= 65535):
        raise ValueError(f"{part!r}: {port_text!r} is not a TCP port")
    return host, int(port_text) if port_text else default_port
