"""Read bounces (delivery status notifications) for invitations, from files or standard input.

Point the bounce address (VOUCH_INVITE_BOUNCE_ADDRESS) at this command, e.g. in Postfix's aliases:
    bounces: "|/srv/vouch/.venv/bin/python /srv/vouch/manage.py invitations_bounces"
or run it over saved messages: manage.py invitations_bounces bounce1.eml bounce2.eml
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from testimonials.invitations.services import bounce_ingest


class Command(BaseCommand):
    help = "Ingest bounce messages (RFC 3464 DSNs): hard bounces stop their invitations and suppress the address."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="One message per file; standard input when none.")

    def handle(self, *args, files: list[str], **options):
        messages = [Path(f).read_bytes() for f in files] if files else [sys.stdin.buffer.read()]
        for raw in messages:
            outcomes = bounce_ingest(raw=raw)
            for line in outcomes or ["Not a delivery failure report; nothing done."]:
                self.stdout.write(line)
