"""What a call-centre lead reads, held against Asterisk's queue_log: today's figures of a queue as `ivr queues
--json` gives them, and the same figures on the wallboard's `/state.json` and `/metrics`. queue_log counts a
caller who reached an agent by CONNECT (data: the wait), one who left without an agent by ABANDON, EXITEMPTY or
EXITWITHTIMEOUT (data: position, original position, the wait); each such caller was offered to the queue."""

from __future__ import annotations

import json
import re
from typing import Any

from ivr.tickets.figures import SERVICE_LEVEL_SECONDS
from tests.ami.monitor import queues, wait_for
from tests.asterisk.site import Site
from tests.web.server import get

LEFT_WITHOUT_AGENT = ("ABANDON", "EXITEMPTY", "EXITWITHTIMEOUT")


def queue_log_figures(site: Site, queue: str) -> dict[str, Any]:
    """Today's figures of `queue` as Asterisk's queue_log gives them (every stay of the test's calls has ended)."""
    assert site.switch is not None
    rows = [row for row in site.switch.queue_log() if len(row) > 4 and row[2] == queue]
    connects = [int(row[5]) for row in rows if row[4] == "CONNECT"]
    left = [int(row[7]) for row in rows if row[4] in LEFT_WITHOUT_AGENT]
    offered = len(connects) + len(left)
    in_time = sum(wait <= SERVICE_LEVEL_SECONDS for wait in connects)
    return {
        "offered": offered,
        "answered": len(connects),
        "abandoned": len(left),
        "answered_in_time": in_time,
        "service_level": in_time / offered if offered else None,
        "connection_rate": len(connects) / offered if offered else None,
        "longest_wait": max(connects + left, default=0),
    }


def today(site: Site, queue: str) -> dict[str, Any]:
    view = queues(site.store, site.rules)
    return next(q for q in view["queues"] if q["queue"] == queue)["today"]


def agrees_with_queue_log(site: Site, queue: str) -> dict[str, Any]:
    """`ivr queues --json` has today's figures of `queue` as queue_log has them, once the monitor has stored the
    facts of every stay (a hang guard, not a timing). Returns them."""
    expected = queue_log_figures(site, queue)
    seen: list[dict[str, Any]] = []

    def agreeing() -> dict[str, Any] | None:
        figures = today(site, queue)
        seen[:] = [{k: figures.get(k) for k in expected}]
        return figures if seen[0] == expected else None

    try:
        return wait_for(f"{queue}'s figures as queue_log has them", agreeing)
    except AssertionError:
        raise AssertionError(f"{queue}: queue_log {expected}, the project {seen[0]}") from None


def metric(web_port: int, name: str, **labels: str) -> float | None:
    """One sample of `/metrics` (Prometheus text), None when absent."""
    body = get(f"http://127.0.0.1:{web_port}/metrics")[2].decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", body, re.M)
    return float(found[1]) if found else None


def state(web_port: int) -> dict[str, Any]:
    return json.loads(get(f"http://127.0.0.1:{web_port}/state.json")[2])


def wallboard_agrees(web_port: int, queue: str, figures: dict[str, Any]) -> None:
    """The wallboard's `/state.json` and `/metrics` show the same figures of `queue`, once `ivr web` has read the
    store (it does once a second, in a thread: a wallboard just started may not have yet)."""
    keys = ("offered", "answered", "abandoned", "service_level", "connection_rate")
    wanted = {k: figures[k] for k in keys}
    seen: list[Any] = [None]

    def shown() -> bool:
        found = [q for q in state(web_port)["queues"] if q["queue"] == queue]
        seen[0] = {k: found[0][k] for k in keys} if found else found
        return seen[0] == wanted

    try:
        wait_for(f"{queue}'s figures on the wallboard", shown)
    except AssertionError:
        raise AssertionError(f"{queue}: queue_log {wanted}, /state.json {seen[0]}") from None
    for result in ("offered", "answered", "answered_in_time", "abandoned"):
        assert metric(web_port, "ivr_queue_calls_today", queue=queue, result=result) == figures[result], result
