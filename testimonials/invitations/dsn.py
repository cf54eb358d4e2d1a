"""Reading bounces: a delivery status notification (RFC 3464) says which message failed and whether for
good. Pure: it finds the facts; services decide what they mean."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

_VERP = re.compile(r"\+([A-Za-z0-9_-]{6,16})@")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


@dataclass(frozen=True)
class Bounce:
    """One failed recipient of a bounce: how to find the message, and whether the failure is permanent."""

    delivery_public_id: str  # from the VERP envelope address (bounces+<id>@...), or ""
    message_id: str  # the original message's Message-ID from the returned headers, or ""
    recipient: str  # Final-Recipient, as the reporting server wrote it
    status: str  # the enhanced status code, e.g. 5.1.1
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")


def _fields(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in re.sub(r"\r?\n[ \t]+", " ", block).splitlines():
        name, _, value = line.partition(":")
        if value:
            out.setdefault(name.strip().lower(), value.strip())
    return out


def parse(raw: bytes) -> list[Bounce]:
    """The failed recipients a DSN reports (empty for anything that is not a DSN, or reports only delays)."""
    report: EmailMessage = email.message_from_bytes(raw, policy=email.policy.compat32)
    verp = ""
    for header in ("X-Original-To", "Delivered-To", "To", "Envelope-To"):
        found = _VERP.search(str(report.get(header, "")))
        if found:
            verp = found.group(1)
            break
    status_text, original_id = "", ""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):  # the email package parses its blocks as header sets
                status_text = "\n\n".join(p.as_string() for p in payload)
            else:
                status_text = str(payload)
        elif kind in ("text/rfc822-headers", "message/rfc822") and not original_id:
            body = part.get_payload()
            text = body[0].as_string() if isinstance(body, list) and body else str(body)
            head = text.split("\n\n", 1)[0]
            found = re.search(r"^Message-ID:\s*(<[^>]+>)", head, flags=re.IGNORECASE | re.MULTILINE)
            original_id = found.group(1) if found else ""
    bounces = []
    for block in re.split(r"\r?\n\s*\r?\n", status_text):
        fields = _fields(block)
        action, status = fields.get("action", "").lower(), fields.get("status", "")
        if action != "failed" or not status:
            continue
        recipient = fields.get("final-recipient", fields.get("original-recipient", "")).split(";")[-1].strip()
        bounces.append(
            Bounce(
                delivery_public_id=verp,
                message_id=original_id,
                recipient=recipient,
                status=status.split()[0],
                diagnostic=fields.get("diagnostic-code", "").split(";", 1)[-1].strip(),
            )
        )
    return bounces
