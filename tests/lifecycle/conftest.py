"""A test subscriber that follows every event type and remembers what it was handed."""

from __future__ import annotations

import pytest

from testimonials.lifecycle.models import EventType
from testimonials.lifecycle.subscribers import subscribe, unsubscribe


class Recorder:
    def __init__(self):
        self.handled: list[tuple[str, str, int | None]] = []  # (event, public id, outbox entry id)
        self.fail_with: Exception | None = None

    def __call__(self, entries) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.handled += [(entry.event, entry.public_id, entry.id) for entry in entries]

    def events(self) -> list[str]:
        return [event for event, _, _ in self.handled]


@pytest.fixture
def recorder():
    recorder = Recorder()
    subscribe("test-recorder", events=EventType.values, handler=recorder)
    yield recorder
    unsubscribe("test-recorder")
