"""A brand's full export (JSON and its public renditions, in one zip) and its restore into a fresh brand.

manage.py brand_data export --brand demo --as-user admin --out demo.zip
manage.py brand_data restore --file demo.zip --slug demo-copy --as-user admin [--name "Demo copy"] [--owner alice]
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from testimonials.errors import ApplicationError
from testimonials.imports.portability import brand_export, brand_restore
from testimonials.models import Brand


class Command(BaseCommand):
    help = "Export a brand whole (zip), or restore such an export into a fresh brand."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "restore"])
        parser.add_argument("--as-user", required=True, help="Who does it: a brand owner (export) or a superuser.")
        parser.add_argument("--brand", help="export: the brand's slug")
        parser.add_argument("--out", help="export: the zip file to write")
        parser.add_argument("--file", help="restore: the zip file to read")
        parser.add_argument("--slug", help="restore: the new brand's slug")
        parser.add_argument("--name", default="", help="restore: the new brand's name (default: the exported one)")
        parser.add_argument("--owner", help="restore: the user name of the new brand's owner (default: --as-user)")

    def handle(self, *args, action, as_user, **options):
        users = get_user_model().objects
        actor = users.filter(username=as_user).first()
        if actor is None:
            raise CommandError(f"No user {as_user!r}.")
        try:
            if action == "export":
                if not options["brand"] or not options["out"]:
                    raise CommandError("export needs --brand and --out.")
                brand = Brand.objects.filter(slug=options["brand"]).first()
                if brand is None:
                    raise CommandError(f"No brand {options['brand']!r}.")
                with open(options["out"], "wb") as out:
                    counts = brand_export(brand=brand, actor=actor, out=out)
                self.stdout.write(f"Exported {counts['testimonials']} testimonials and {counts['files']} files.")
            else:
                if not options["file"] or not options["slug"]:
                    raise CommandError("restore needs --file and --slug.")
                owner = users.filter(username=options["owner"]).first() if options["owner"] else actor
                if owner is None:
                    raise CommandError(f"No user {options['owner']!r}.")
                with open(options["file"], "rb") as archive:
                    brand = brand_restore(
                        archive_file=archive, actor=actor, slug=options["slug"], name=options["name"], owner=owner
                    )
                self.stdout.write(f"Restored into brand {brand.slug!r} ({brand.testimonials.count()} testimonials).")
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
