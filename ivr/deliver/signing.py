"""The signature a department checks: HMAC-SHA256 of `TIMESTAMP.BODY` with the link's secret, so a receiver knows
the centre sent the body and can refuse a replay older than a few minutes (docs/delivery.md)."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-IVR-Timestamp"
SIGNATURE_HEADER = "X-IVR-Signature"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def valid(secret: bytes, timestamp: str, body: bytes, received: str) -> bool:
    """What a receiver does (the docs' ten lines), here so the tests check with the same rule."""
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), received)
