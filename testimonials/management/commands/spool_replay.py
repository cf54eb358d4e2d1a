"""Store what the spool holds (run at start-up, before the web server; beat does it every 15 s too)."""

from django.core.management.base import BaseCommand

from testimonials.spool.services import held_count, spool_replay


class Command(BaseCommand):
    help = "Store submissions spooled while the database or the originals' disk was unavailable."

    def handle(self, *args, **options):
        done = spool_replay()
        self.stdout.write(
            f"Stored {done['stored']}, held {done['held']} for an operator ({held_count()} in all), "
            f"{done['left']} left."
        )
