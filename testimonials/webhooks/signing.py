"""Standard Webhooks signatures (https://www.standardwebhooks.com/): a pure library.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is the base64 of its
HMAC-SHA256 under the secret's bytes, sent as `v1,<signature>`. During a secret rotation a message
carries one signature per valid secret, space-separated, so a receiver holding either verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64 (what receivers' libraries expect)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed message; one signature per secret (the current one first)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_
        ),
    }


def verify(*, secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether one of the header's signatures is ours (constant-time), as a receiver checks it."""
    expected = signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
