"""What a department receives of a stub event: the JSON body and the headers that identify it. Pure: the same
event always gives the same body, so a repeat is byte for byte the first one, with the same Idempotency-Key."""

from __future__ import annotations

import json

from ivr.deliver.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from ivr.rules.model import Delivery
from ivr.tickets.outbox import Event
from ivr.tickets.stub import Stub

USER_AGENT = "ivr12345-deliver/1"


def idempotency_key(event: Event) -> str:
    """The ticket and its revision: what the department stores once, whatever number of times it is sent."""
    return f"{event.ticket}/{event.revision}"


def body(event: Event, delivery: Delivery) -> bytes:
    stub = event.stub if delivery.full_caller else Stub.from_json(event.stub).masked().as_json()
    ticket = {name: stub.get(name) for name in delivery.fields}
    document = {"event": event.event, "link": event.link, "ticket": ticket}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def headers(event: Event, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": idempotency_key(event),
        "X-IVR-Event": event.event,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature,
    }
