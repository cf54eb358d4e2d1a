"""The embedded default's outbox: every message a file of its own (`.eml`), read back by the admin's
outbox page. Production sends through SMTP instead (EMAIL_URL) and this folder stays empty."""

from __future__ import annotations

import email
import email.policy
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def outbox_folder() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


def file_name_for(message_id: str) -> str:
    """The file a message is kept in, from its Message-ID: erasure finds a customer's messages by it."""
    return _UNSAFE.sub("_", message_id.strip("<>"))[:180] + ".eml"


class OutboxFileBackend(BaseEmailBackend):
    """Writes each message to EMAIL_FILE_PATH/<Message-ID>.eml, whole or not at all (a rename)."""

    def send_messages(self, email_messages) -> int:
        folder = outbox_folder()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            mime = message.message()
            raw = mime.as_bytes(linesep="\r\n")
            name = file_name_for(mime["Message-ID"] or f"<{time.time_ns()}@outbox>")
            fd, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            os.replace(temporary, folder / name)
            sent += 1
        return sent


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    message_id: str
    subject: str
    to: str
    sent_at: float
    headers: list[tuple[str, str]]
    text: str
    html: str


def read_message(path: Path) -> OutboxMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    return OutboxMessage(
        name=path.name,
        message_id=str(parsed.get("Message-ID", "")),
        subject=str(parsed.get("Subject", "")),
        to=str(parsed.get("To", "")),
        sent_at=path.stat().st_mtime,
        headers=[(k, str(v)) for k, v in parsed.items()],
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
    )


def newest_files(limit: int) -> list[Path]:
    folder = outbox_folder()
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix == ".eml"]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


def delete_messages(message_ids: list[str]) -> int:
    """Remove these messages from the outbox folder (erasure); returns how many files went."""
    folder, gone = outbox_folder(), 0
    for message_id in message_ids:
        path = folder / file_name_for(message_id)
        if path.exists():
            path.unlink()
            gone += 1
    return gone
