"""The links in an invitation: signed with SECRET_KEY, so nothing secret is stored per recipient.

The invitation link carries the recipient's public id and the time it was issued (each reminder
issues a fresh one); it expires after VOUCH_INVITE_LINK_DAYS. It is single-use because the
testimonial it creates takes a unique key (models.submission_key_for), not because of a stored nonce.
The unsubscribe link never expires (RFC 8058: it must keep working).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

LINK_SALT = "vouch.invitations.link"
UNSUBSCRIBE_SALT = "vouch.invitations.unsubscribe"


class TokenRefused(Exception):
    """A link that cannot be used: forged or mangled (`bad`), or `expired` (its recipient is still known)."""

    def __init__(self, code: str, public_id: str = ""):
        super().__init__(code)
        self.code = code
        self.public_id = public_id


def link_token(public_id: str) -> str:
    return signing.dumps({"r": public_id}, salt=LINK_SALT, compress=False)


def link_token_read(token: str) -> str:
    """The recipient's public id, or TokenRefused."""
    max_age = settings.VOUCH_INVITE_LINK_DAYS * 86400
    try:
        return _public_id(signing.loads(token, salt=LINK_SALT, max_age=max_age))
    except signing.SignatureExpired:
        # Genuine but old: say so, naming the brand, instead of calling it invalid.
        raise TokenRefused("expired", _public_id(signing.loads(token, salt=LINK_SALT))) from None
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise TokenRefused("bad") from exc


def unsubscribe_token(public_id: str) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"r": public_id}, compress=False)


def unsubscribe_token_read(token: str) -> str:
    try:
        return _public_id(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token))
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise TokenRefused("bad") from exc


def _public_id(payload) -> str:
    value = payload["r"]
    if not isinstance(value, str) or not value or len(value) > 16:
        raise ValueError("not a public id")
    return value
