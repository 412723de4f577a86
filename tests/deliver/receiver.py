"""A department's receiver for the tests: Twisted web over TLS on loopback, in its own process. Each request is
appended to a JSON-lines file with its headers, body and whether its signature is valid; how it answers is set on
the command line:

    python -m tests.deliver.receiver PORT CERT KEY LOG SECRET [--fail N] [--status S] [--delay SECONDS]

--fail N: answer 500 to the first N requests, then 200; --status S: always answer S (400: a refusal);
--delay: wait that long before answering (longer than the delivery's timeout: a department that times out).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from twisted.internet import reactor, ssl
from twisted.web import resource, server

from ivr.deliver.signing import valid


class Receiver(resource.Resource):
    isLeaf = True

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.count = 0
        self.log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life

    def render_POST(self, request: Any) -> Any:
        self.count += 1
        body = request.content.read()
        header = lambda name: request.getHeader(name) or ""  # noqa: E731
        status = self.args.status or (500 if self.count <= self.args.fail else 200)
        record = {
            "at": time.time(),  # when the department received it: the end of the delay the bench measures
            "key": header("Idempotency-Key"),
            "event": header("X-IVR-Event"),
            "signed": valid(self.args.secret.encode(), header("X-IVR-Timestamp"), body,
                            header("X-IVR-Signature")),
            "body": json.loads(body),
            "status": status,
        }  # fmt: skip

        def answer() -> None:
            self.log.write(json.dumps(record, ensure_ascii=False) + "\n")  # written before the answer
            self.log.flush()
            request.setResponseCode(status)
            request.write(b"stored\n" if status == 200 else b"ticket refused: field 'line' unknown\n")
            request.finish()

        reactor.callLater(self.args.delay, answer)
        return server.NOT_DONE_YET


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("port", "certificate", "key", "log", "secret"):
        parser.add_argument(name)
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    context = ssl.DefaultOpenSSLContextFactory(args.key, args.certificate)
    reactor.listenSSL(int(args.port), server.Site(Receiver(args)), context, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: (print("listening", flush=True), sys.stdout.flush()))
    reactor.run()


if __name__ == "__main__":
    main()
