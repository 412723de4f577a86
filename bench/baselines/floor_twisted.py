"""The floor for our stack: a bare Twisted FastAGI server that only does the exchange.

It reads the environment block, then sends the exact command lines `ivr serve` sends for the number dialed (given
as a JSON file by bench/agiload.py: number → lines, taken from the engine's own plan for that call), one after
each reply, and half-closes as the engine does. No rules, router, executor, ticket store or log line: whatever the
engine costs beyond this server is the engine's own. Listens on loopback only, with the engine's backlog (4096);
stops on SIGTERM.

    .venv/bin/python bench/baselines/floor_twisted.py SCRIPTS.json [PORT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver


class FloorSession(LineReceiver):
    delimiter = b"\n"

    def __init__(self, scripts: dict[str, list[bytes]]) -> None:
        self.scripts = scripts
        self.environment: dict[bytes, bytes] = {}
        self.commands: list[bytes] | None = None
        self.next = 0

    def lineReceived(self, line: bytes) -> None:
        if self.commands is None:
            if line:
                key, _, value = line.partition(b": ")
                self.environment[key] = value
                return
            number = self.environment.get(b"agi_arg_1") or self.environment.get(b"agi_extension", b"")
            self.commands = self.scripts.get(number.decode(), [])
            self._send()
        elif line != b"HANGUP":
            self._send()

    def _send(self) -> None:
        assert self.commands is not None
        if self.next < len(self.commands):
            self.transport.write(self.commands[self.next])
            self.next += 1
        else:
            self.transport.loseWriteConnection()


class FloorFactory(Factory):
    def __init__(self, scripts: dict[str, list[bytes]]) -> None:
        self.scripts = scripts

    def buildProtocol(self, addr: object) -> FloorSession:
        return FloorSession(self.scripts)


def main() -> None:
    raw = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    scripts = {number: [f"{line}\n".encode() for line in lines] for number, lines in raw.items()}
    port = reactor.listenTCP(int(sys.argv[2]) if len(sys.argv) > 2 else 0, FloorFactory(scripts), 4096, "127.0.0.1")
    print(f"floor listening on 127.0.0.1:{port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
