"""`ivr web` on Twisted: the page, its live state over server-sent events, and `/metrics`.

One reader (`Centre`) reads the store once a second in a thread, builds the page's state (`ivr.web.model`) and
pushes it to every open `/events` stream, so a hundred wall screens cost one read, and the reactor never waits for
the store. The push is also the heartbeat: a page that hears nothing for a few seconds says so itself.

A token, when set, guards every path: `Authorization: Bearer TOKEN` or `?token=TOKEN` (an EventSource cannot send
headers), compared in constant time. The access log never holds a query string, so the token never reaches a log.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from twisted.internet import task, threads
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from ivr.runtime import service as runtime
from ivr.runtime.rulesholder import RulesHolder
from ivr.runtime.service import reactor
from ivr.tickets.store import StoreUnavailable, TicketStore
from ivr.web import page
from ivr.web.metrics import CentreCollector
from ivr.web.model import Names, stubs_query, unreadable, wallboard

log = logging.getLogger("ivr.web")
READ_SECONDS = 1.0
MAX_STREAMS = 200  # open /events streams; more are refused (503) rather than letting one client hold them all
REFUSALS_LOGGED_EVERY = 60.0
RETRY_MS = 2000  # how soon a browser reconnects an /events stream that dropped


class Centre:
    """The latest state of the page, read from the store in a thread, and the streams it is pushed to."""

    def __init__(self, store: TicketStore, names: Callable[[], Names], clock: Callable[[], float] = time.time) -> None:
        """`names()` gives the names of the rules in use now (reloaded on SIGHUP or a change of the file)."""
        self.store = store
        self.names = names
        self.clock = clock
        self.state = json.dumps(unreadable("not read yet", clock(), names().zone), ensure_ascii=False).encode()
        self.streams: set[server.Request] = set()
        self._failing = False

    def read(self) -> dict[str, Any]:
        """In a thread: boards and the stubs of today and of the call-back window, in one read."""
        now, names = self.clock(), self.names()  # one rule set for the whole read
        try:
            boards = self.store.boards()
            stubs = self.store.find(stubs_query(now, names))
            deliveries = self.store.deliveries().counts(list(names.links))
        except StoreUnavailable as exc:
            if not self._failing:
                log.error("ALARM ticket store cannot be read: %s", exc)
            self._failing = True
            return unreadable(str(exc), now, names.zone)
        if self._failing:
            log.info("ticket store %s can be read again", self.store.name)
        self._failing = False
        return wallboard(boards, stubs, now, names, deliveries=deliveries)

    def refresh(self) -> Deferred[None]:
        return threads.deferToThread(self.read).addCallback(self.publish).addErrback(self._failed)

    def publish(self, state: dict[str, Any]) -> None:
        self.state = json.dumps(state, ensure_ascii=False).encode()
        message = b"data: " + self.state + b"\n\n"  # json.dumps never writes a newline: one SSE line
        for request in list(self.streams):
            request.write(message)

    def close_streams(self) -> None:
        for request in list(self.streams):
            request.finish()

    def _failed(self, failure: Failure) -> None:
        """A bug, not an outage (those are StoreUnavailable): keep the reader running and say so on the wall."""
        log.error("wallboard state failed: %s", failure.getTraceback())
        self.publish(unreadable(failure.getErrorMessage(), self.clock(), self.names().zone))


class Page(resource.Resource):
    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        lang = page.language(_arg(request, b"lang"))
        html, policy = page.render(lang)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"content-security-policy", policy.encode())
        return html


class State(resource.Resource):
    isLeaf = True

    def __init__(self, centre: Centre) -> None:
        super().__init__()
        self.centre = centre

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        return self.centre.state


class Events(resource.Resource):
    """Server-sent events: the state at once, then every time it is read again."""

    isLeaf = True

    def __init__(self, centre: Centre) -> None:
        super().__init__()
        self.centre = centre

    def render_GET(self, request: server.Request) -> bytes | int:
        if len(self.centre.streams) >= MAX_STREAMS:
            request.setResponseCode(503)
            return b"too many open wallboards\n"
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"x-accel-buffering", b"no")  # a proxy in front must not hold the stream back
        request.write(b"retry: %d\n\ndata: " % RETRY_MS + self.centre.state + b"\n\n")
        self.centre.streams.add(request)
        request.notifyFinish().addBoth(lambda _: self.centre.streams.discard(request))
        return server.NOT_DONE_YET


class Metrics(resource.Resource):
    """Prometheus text format; the collector reads the store, so the scrape runs in a thread."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: server.Request) -> int:
        def send(body: bytes) -> None:
            request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
            request.write(body)
            request.finish()

        def failed(failure: Failure) -> None:
            log.error("/metrics failed: %s", failure.getErrorMessage())
            request.setResponseCode(500)
            request.finish()

        finished = request.notifyFinish()
        scrape = threads.deferToThread(generate_latest, self.registry)
        scrape.addCallbacks(send, failed)
        finished.addErrback(lambda _: scrape.cancel())
        return server.NOT_DONE_YET


class Root(resource.Resource):
    """Every path, behind the token when there is one."""

    def __init__(self, centre: Centre, registry: CollectorRegistry, token: str, clock: Callable[[], float]) -> None:
        super().__init__()
        self.token = token.encode()
        self.clock = clock
        self._refused: dict[str, float] = {}
        self.putChild(b"", Page())
        self.putChild(b"state.json", State(centre))
        self.putChild(b"events", Events(centre))
        self.putChild(b"metrics", Metrics(registry))

    def getChildWithDefault(self, path: bytes, request: IRequest) -> resource.IResource:
        if self.token and not self.allowed(request):
            self._log_refusal(request)
            return Unauthorized()
        return super().getChildWithDefault(path, request)

    def allowed(self, request: IRequest) -> bool:
        header = request.getHeader(b"authorization") or b""
        given = header[7:] if header[:7].lower() == b"bearer " else _arg(request, b"token").encode()
        return hmac.compare_digest(given, self.token)

    def _log_refusal(self, request: IRequest) -> None:
        """Once a minute per address: a scanner must not fill the log."""
        who = _client(request)
        now = self.clock()
        if now - self._refused.get(who, -REFUSALS_LOGGED_EVERY) >= REFUSALS_LOGGED_EVERY:
            self._refused[who] = now
            log.warning("request from %s refused: no or wrong token (logged once a minute per address)", who)


class Unauthorized(resource.Resource):
    isLeaf = True

    def render(self, request: server.Request) -> bytes:
        request.setResponseCode(401)
        request.setHeader(b"www-authenticate", b'Bearer realm="ivr web"')
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN\n"


class Site(server.Site):
    """Access lines without query strings (the token may be in one), at DEBUG; every response uncached."""

    def log(self, request: server.Request) -> None:
        path = request.path.decode("ascii", "replace")  # the path alone: the query is in request.uri
        log.debug("%s %s %s %s", _client(request), request.method.decode("ascii", "replace"), path, request.code)

    def getResourceFor(self, request: server.Request) -> resource.IResource:
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"referrer-policy", b"no-referrer")
        return super().getResourceFor(request)


def site(centre: Centre, registry: CollectorRegistry, token: str, clock: Callable[[], float] = time.time) -> Site:
    return Site(Root(centre, registry, token, clock))


def run(store: TicketStore, rules: RulesHolder[Names], host: str, port: int, token: str, spools: Sequence[Path]) -> int:
    """Listen, read the store once a second, push; SIGTERM or SIGINT closes the streams and exits 0. The rules
    (names, zone, call-back window) follow SIGHUP and changes of the file, as in `ivr serve` and `ivr monitor`."""
    centre = Centre(store, lambda: rules.current)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CentreCollector(store, lambda: rules.current, spools))
    listening = reactor.listenTCP(port, site(centre, registry, token), interface=host)
    address = listening.getHost()
    log.info(
        "ivr web: wallboard on http://%s:%d/ (tickets %s; %s)",
        address.host,
        address.port,
        store.name,
        "every request needs the token" if token else "no token: loopback only",
    )
    reader = task.LoopingCall(centre.refresh)  # never two reads at once: it waits for each read's Deferred
    return runtime.run(
        "ivr web", log, rules, start=[lambda: reader.start(READ_SECONDS)], stop=centre.close_streams, close=store.close
    )


def _arg(request: IRequest, name: bytes) -> str:
    values = request.args.get(name) if request.args else None
    return values[0].decode("utf-8", "replace") if values else ""


def _client(request: IRequest) -> str:
    address = request.getClientAddress()
    return str(getattr(address, "host", address))
