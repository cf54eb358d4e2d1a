"""A process that dies right after committing a change, before handing it to anyone: the outbox entry is
there, and the sweeper delivers it exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from testimonials.lifecycle.dispatch import lifecycle_sweep
from testimonials.models import OutboxEntry, Testimonial
from tests.factories import TestimonialFactory
from tests.workers import ROOT, database_url

State = Testimonial.State

CRASH_AFTER_COMMIT = """
import os
import django

django.setup()
from django.contrib.auth import get_user_model

from testimonials import queue
from testimonials.models import Testimonial
from testimonials.services.decisions import testimonial_approve

# The process dies the moment its transaction has committed, before anything is handed off.
queue._AfterCommit.flush = lambda self: os._exit(9)
item = Testimonial.objects.get(id={item_id})
testimonial_approve(testimonial=item, actor=get_user_model().objects.get(id={user_id}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_just_before_a_crash_is_delivered_once_by_the_sweeper(alice, brand_a, recorder):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_COMMIT.format(item_id=item.id, user_id=alice.id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert Testimonial.objects.get(id=item.id).state == State.APPROVED  # the change committed
    entry = OutboxEntry.objects.get()
    assert entry.dispatched_at is None and recorder.handled == []

    assert lifecycle_sweep(older_than=timedelta(0)) == 1
    assert recorder.handled == [("approve", item.public_id, entry.id)]
    assert lifecycle_sweep(older_than=timedelta(0)) == 0
    assert recorder.handled == [("approve", item.public_id, entry.id)]
