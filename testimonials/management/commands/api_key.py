"""Create, list or revoke a brand's REST API keys from the command line (the admin does the same)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from testimonials.errors import ApplicationError
from testimonials.models import ApiKey, Brand
from testimonials.services.api_keys import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Create (prints the key once), list or revoke REST API keys of a brand."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("--brand", required=True, help="The brand's slug.")
        parser.add_argument("--as-user", help="Username of a brand owner (create, revoke).")
        parser.add_argument("--name", default="API key", help="What uses the key (create).")
        parser.add_argument("--prefix", help="The key's prefix, vk_<prefix>_... (revoke).")

    def handle(self, *args, action: str, brand: str, as_user: str | None, name: str, prefix: str | None, **options):
        brand_obj = Brand.objects.filter(slug=brand).first()
        if brand_obj is None:
            raise CommandError(f"No brand with slug {brand!r}.")
        if action == "list":
            for key in ApiKey.objects.filter(brand=brand_obj):
                state = "revoked" if key.revoked_at else f"last used {key.last_used_at or 'never'}"
                self.stdout.write(f"vk_{key.prefix}_…  {key.name}  by {key.created_by}  ({state})")
            return
        actor = get_user_model().objects.filter(username=as_user or "").first()
        if actor is None:
            raise CommandError("Say who asks, with --as-user <an owner's username>.")
        try:
            if action == "create":
                _, raw = api_key_create(brand=brand_obj, actor=actor, name=name)
                self.stdout.write(f"{raw}\nKeep it now: it is stored hashed and cannot be shown again.")
                return
            key = ApiKey.objects.filter(brand=brand_obj, prefix=prefix or "").first()
            if key is None:
                raise CommandError(f"No key vk_{prefix}_… for {brand_obj.name}.")
            api_key_revoke(key=key, actor=actor)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Revoked vk_{prefix}_…"))
