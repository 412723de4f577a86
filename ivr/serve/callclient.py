"""The Asterisk side over a real TCP connection: one simulated call against a running engine (`ivr call`, and
the service's tests). Blocking sockets: this is a client tool, not part of the engine."""

from __future__ import annotations

import contextlib
import socket

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall


class CallFailed(Exception):
    """The engine could not be reached or stopped answering; the message says which."""


def call_engine(
    host: str, port: int, call: SimulatedCall, timeout: float = 10.0, source: str | None = None
) -> AsteriskSimulator:
    """Connect like Asterisk, send the environment, answer every command until the engine half-closes. `source`:
    the local address to connect from, to play one of several Asterisk hosts the engine's allowlist names."""
    simulator = AsteriskSimulator(call)
    try:
        sock = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
    except OSError as exc:
        raise CallFailed(f"cannot connect to the engine at {host}:{port}: {exc.strerror or exc}") from None
    with sock:
        sock.sendall(simulator.open())
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                raise CallFailed(f"the engine sent nothing for {timeout:.0f} s") from None
            except OSError as exc:
                raise CallFailed(f"connection to the engine lost: {exc.strerror or exc}") from None
            if not data:
                # If the engine closed both ways, the last HANGUP has nobody to read it.
                with contextlib.suppress(OSError):
                    sock.sendall(simulator.engine_closed())
                return simulator
            reply = simulator.receive(data)
            if reply:
                sock.sendall(reply)
