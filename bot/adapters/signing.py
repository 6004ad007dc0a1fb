"""The signature of the bot's own webhook requests (the rerun webhook, the ticket webhook, the
agent's start): HMAC-SHA256 over the timestamp and the exact bytes sent, in two headers, so a
receiver can check a request before parsing it and refuse a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

TIMESTAMP_HEADER = "X-Eadm-Timestamp"
SIGNATURE_HEADER = "X-Eadm-Signature"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`.

    The timestamp is inside the MAC so a captured request cannot be replayed later with a
    fresh timestamp header.
    """
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    max_age: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """True when `signature` is ours for this body and the timestamp is recent.

    For receivers (and tests). `max_age=None` skips the freshness check.
    """
    if max_age is not None:
        try:
            sent = int(timestamp)
        except ValueError:
            return False
        current = time.time() if now is None else now
        if abs(current - sent) > max_age:
            return False
    try:
        expected = sign(secret, timestamp, body)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, signature)


def signature_headers(secret: str | bytes | None, body: bytes) -> dict[str, str]:
    """The two signature headers for `body`, or none when no secret is set."""
    if not secret:
        return {}
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    timestamp = str(int(time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(key, timestamp, body)}


async def post_signed(
    url: str, payload: dict[str, Any], secret: str | bytes | None, seconds: float
) -> httpx.Response:
    """POST `payload` as JSON, signed over the exact bytes sent so a receiver can check them
    before parsing. Raises httpx's errors for the caller to explain in its own words."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "eadm-bot"}
    headers.update(signature_headers(secret, body))
    async with httpx.AsyncClient(timeout=seconds) as client:
        return await client.post(url, content=body, headers=headers)
