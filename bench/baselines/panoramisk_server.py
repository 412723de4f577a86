"""The peer a Python user would pick: panoramisk 1.4's FastAGI Application doing the same exchange.

Each number dialed gets a route whose handler sends the exact command lines `ivr serve` sends for that call (a
JSON file from bench/agiload.py), awaiting each reply with panoramisk's `Request.send_command`. Under Python 3.11
panoramisk works as it is with two precautions, both taken here: the Application is built inside the running loop
(its constructor calls `asyncio.get_event_loop()`), and the handlers are coroutine functions (for a plain
function it calls `asyncio.coroutine`, which 3.11 removed). panoramisk routes on the whole `agi_network_script`,
which carries the AGI arguments (`route,12345`), so there is one route per number. It closes the socket when the
handler returns (no half-close). Listens on loopback only, backlog 4096 as the engine; stops on SIGTERM.

    .venv/bin/python bench/baselines/panoramisk_server.py SCRIPTS.json [PORT]
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from panoramisk.fast_agi import Application, Request


def handler(commands: list[str]) -> Callable[[Request], Awaitable[None]]:
    async def handle(request: Request) -> None:
        for command in commands:
            await request.send_command(command)

    return handle


async def serve(scripts: dict[str, list[str]], port: int) -> None:
    app = Application()
    for number, commands in scripts.items():
        app.add_route(f"route,{number}", handler(commands))
    server = await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=4096)
    print(f"panoramisk listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    scripts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    asyncio.run(serve(scripts, int(sys.argv[2]) if len(sys.argv) > 2 else 0))


if __name__ == "__main__":
    main()
