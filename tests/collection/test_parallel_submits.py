"""The submit rate limit holds under parallel submits from one address (counted first, atomically)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from testimonials.collection import views
from testimonials.models import Testimonial
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401
from tests.factories import BrandFactory, CollectionFormFactory

PARALLEL = 30


@pytest.mark.django_db(transaction=True)
def test_it_stores_at_most_the_limit_from_many_parallel_submits_from_one_address(settings, monkeypatch):
    settings.SUBMIT_RATE_LIMIT = "10/h"
    form = CollectionFormFactory(brand=BrandFactory(slug="race"))
    # Every request that got past the rate limit waits here until all 30 have either arrived or been
    # refused: the widest possible race between the check and the store, with no clock involved.
    arrived, lock, everyone = [0], threading.Lock(), threading.Event()

    def arrive():
        with lock:
            arrived[0] += 1
            if arrived[0] == PARALLEL:
                everyone.set()

    validate = views._validate
    local = threading.local()

    def waiting_validate(*args, **kwargs):
        local.validated = True
        arrive()
        everyone.wait()
        return validate(*args, **kwargs)

    monkeypatch.setattr(views, "_validate", waiting_validate)
    statuses = []

    def submit():
        local.validated = False
        try:
            response = Client().post(form_url(form), valid_post(form), REMOTE_ADDR="198.51.100.20")
            statuses.append(response.status_code)
        finally:
            if not local.validated:
                arrive()  # refused before validation
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303] * 10 + [429] * 20
    assert Testimonial.objects.filter(form=form).count() == 10
