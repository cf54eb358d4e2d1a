"""Run the embedded stack: the web server and a Celery worker (with its beat scheduler) together.

Ctrl-C stops both. Used by `make run`; production runs gunicorn, workers and beat as separate
services instead (README, "Production").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server and a background worker together (embedded default). Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, addr: str, concurrency: int, **options):
        python = sys.executable
        var = settings.VAR_DIR
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                f"--schedule={var / 'celerybeat-schedule'}",
                "--queues=text,media,sweeper",
                f"--concurrency={concurrency}",
                # Quiet in normal operation: warnings and errors only, not a line per task.
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        }
        # Both children build links from the address they serve (settings.PUBLIC_URL follows VOUCH_ADDR).
        env = {**os.environ, "VOUCH_ADDR": os.environ.get("VOUCH_ADDR") or addr}
        children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        base = settings.PUBLIC_URL if os.environ.get("VOUCH_PUBLIC_URL") else f"http://{env['VOUCH_ADDR']}"
        base = base.replace("://0.0.0.0:", "://127.0.0.1:")
        self.stdout.write(self.style.SUCCESS(f"Vouch is running: open {base}/ (Ctrl-C stops it)."))

        def stop() -> None:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()

        class Stop(Exception):
            pass

        def on_signal(signum, frame):
            raise Stop

        # Explicit handlers: a shell starts background jobs with SIGINT ignored, and Python would
        # keep ignoring it; Ctrl-C and `kill` must stop both processes however this was started.
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            dead = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest.")
        except Stop:
            self.stdout.write("Stopping…")
        finally:
            stop()
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
