"""GDPR requests from the command line: export or erase everything a brand holds about a customer."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from testimonials.errors import ApplicationError
from testimonials.models import Brand
from testimonials.privacy.services import customer_erase, customer_export


class Command(BaseCommand):
    help = "Export (JSON on stdout) or erase a customer's testimonials, media and history for one brand."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("--brand", required=True, help="The brand's slug.")
        parser.add_argument("--email", required=True, help="The customer's email address.")
        parser.add_argument("--as-user", required=True, help="Username of the owner/editor making the request.")
        parser.add_argument("--yes", action="store_true", help="Erase without asking.")

    def handle(self, *args, action: str, brand: str, email: str, as_user: str, yes: bool, **options):
        try:
            brand_obj = Brand.objects.get(slug=brand)
        except Brand.DoesNotExist:
            raise CommandError(f"No brand with slug {brand!r}.") from None
        actor = get_user_model().objects.filter(username=as_user).first()
        if actor is None:
            raise CommandError(f"No user named {as_user!r}.")
        try:
            if action == "export":
                data = customer_export(brand=brand_obj, email=email, actor=actor)
                self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
                return
            if not yes and input(f"Erase every testimonial from {email} for {brand_obj.name}? [y/N] ").lower() != "y":
                raise CommandError("Nothing erased.")
            count = customer_erase(brand=brand_obj, email=email, actor=actor)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Erased {count} testimonial(s) and their media."))
