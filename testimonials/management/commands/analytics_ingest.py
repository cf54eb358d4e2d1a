"""Drain the analytics buffer continuously: production's ingest worker (docs/analytics.md).

Beat's analytics_drain_task does the same every few seconds (the embedded default); under real
traffic run this as its own service, one or more processes: entries are claimed per process and
ingest is idempotent, so they never double-count. SIGTERM stops it between batches; kill -9 loses
nothing (the claimed entries are handed out again after ANALYTICS_CLAIM_IDLE_SECONDS).

An outage of the buffer's Redis or of the database (a restart, a deadlock victim) does not stop it:
the batch's transaction rolls back, its entries stay in the buffer, and the worker waits (up to
MAX_PAUSE seconds, longer after each failure in a row), logs the outage once per interval and tries
again with fresh connections. Any other error stops it (its supervisor restarts it). Quiet in normal
operation; `-v 2` prints a line per batch.
"""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections

from testimonials import outages
from testimonials.analytics import services

log = logging.getLogger(__name__)
MAX_PAUSE = 5.0  # seconds between attempts during an outage


class Command(BaseCommand):
    help = "Move accepted analytics beacons from the buffer into raw events and rollups, continuously."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain what is there, then stop.")
        parser.add_argument("--idle", type=float, default=0.5, help="Seconds to wait when the buffer is empty.")

    def handle(self, *args, once: bool, idle: float, verbosity: int = 1, **options):
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        failures = 0
        while not stopping:
            close_old_connections()
            try:
                result = services.analytics_drain(max_rounds=20)
            except Exception as exc:
                if not outages.is_infrastructure_error(exc):
                    raise
                failures += 1
                log.warning("Analytics ingest paused; trying again", exc_info=True)
                connections.close_all()  # a connection the outage broke is replaced on the next attempt
                time.sleep(min(MAX_PAUSE, idle * 2**failures))
                continue
            failures = 0
            if result.beacons and verbosity >= 2:  # quiet in normal operation (a line per batch otherwise)
                self.stdout.write(f"ingested {result.added} events from {result.beacons} beacons", ending="\n")
                self.stdout.flush()
            if once and not result.beacons:
                return
            if not result.beacons:
                time.sleep(idle)
