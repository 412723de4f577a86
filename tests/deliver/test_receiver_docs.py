"""The ten lines docs/delivery.md gives a department's integrator accept what the deliverer signs, and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path

from ivr.deliver import payload
from ivr.deliver.signing import signature
from ivr.rules.model import Delivery
from ivr.tickets.outbox import Event
from tests.tickets.calls import call, numbered, stubs_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "delivery.md"


def documented_verify():
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    scope: dict[str, object] = {}
    exec(code, scope)
    return scope["verify"]


def signed(secret: bytes, at: int) -> tuple[dict[str, str], bytes]:
    opening, _ = stubs_of(call(1, "12348"))
    stub = numbered(opening, 1).as_json()
    event = Event("1", "12348-system", stub["id"], 0, "created", at, at, stub)
    body = payload.body(event, Delivery("https://x.example/", "IVR_SECRET_X"))
    return payload.headers(event, at, signature(secret, at, body)), body


def test_the_documented_verification_accepts_a_signed_request_and_refuses_a_changed_one():
    verify = documented_verify()
    now = int(time.time())
    headers, body = signed(b"s3cret", now)
    assert verify(b"s3cret", headers, body)
    assert not verify(b"other", headers, body), "another secret"
    assert not verify(b"s3cret", headers, body.replace(b"12348", b"12349")), "a changed body"
    old_headers, old_body = signed(b"s3cret", now - 3600)
    assert not verify(b"s3cret", old_headers, old_body), "a replay an hour later"
