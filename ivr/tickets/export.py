"""Stubs for people and other systems: CSV that Excel opens with the Chinese intact, and JSON.

Excel takes a CSV file without a byte order mark for the machine's ANSI code page (GBK on a Chinese Windows),
which turns UTF-8 Chinese into mojibake: the CSV is UTF-8 with a BOM, lines ending in CRLF. Callers are masked
unless the caller of these functions passes stubs unmasked.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from ivr.hosts import LOCAL
from ivr.tickets.stub import Stub

COLUMNS = (
    "id",
    "received",
    "line",
    "line_name",
    "department",
    "department_name",
    "mode",
    "data_link",
    "dialed",
    "redirecting",
    "caller",
    "presentation",
    "category",
    "outcome",
    "stage",
    "queue_wait",
    "answered_by",
    "queue",
    "rating",
    "rating_reason",
    "dispatch",
    "sign_for",
    "return",
    "ended",
    "route",
    "uniqueid",
    "linkedid",
    "engine",
    "host",
)


def csv_bytes(stubs: Iterable[Stub]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for stub in stubs:
        writer.writerow(_row(stub))
    return out.getvalue().encode("utf-8-sig")


def json_text(stubs: Iterable[Stub]) -> str:
    return json.dumps([stub.as_json() for stub in stubs], ensure_ascii=False, indent=2)


def due_text(stub: Stub, which: str) -> str:
    """A deadline of the stub in its own zone, minutes only: how agents read it."""
    due = next((d.due for d in stub.deadlines if d.step == which), None)
    return f"{due:%Y-%m-%d %H:%M}" if due else ""


def route_text(stub: Stub) -> str:
    return "; ".join(f"{s.at:%H:%M:%S} {s.what} {s.detail}".rstrip() for s in stub.route)


def _row(stub: Stub) -> list[str]:
    return [
        stub.id,
        f"{stub.received:%Y-%m-%d %H:%M:%S}",
        stub.line,
        stub.line_name,
        stub.department,
        stub.department_name,
        stub.mode,
        stub.data_link,
        stub.dialed,
        stub.redirecting,
        stub.caller,
        stub.presentation.value,
        stub.category,
        stub.outcome.value,
        stub.stage,
        "" if stub.queue_wait is None else str(stub.queue_wait),
        stub.answered_by,
        stub.queue,
        stub.rating,
        stub.rating_reason,
        due_text(stub, "dispatch"),
        due_text(stub, "sign-for"),
        due_text(stub, "return"),
        f"{stub.ended:%Y-%m-%d %H:%M:%S}" if stub.ended else "",
        route_text(stub),
        stub.uniqueid,
        stub.linkedid,
        stub.engine,
        stub.host or LOCAL,
    ]
