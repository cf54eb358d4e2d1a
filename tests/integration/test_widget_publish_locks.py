"""A widget publish locks its widget row against other publishes only: foreign-key checks on the widget and
its brand (a submit storing a testimonial, the analytics ingest committing rollups) never wait for it.

The soak run (bench/soak.py) found the ingest's commit deadlocked with a publish: the publish's
`SELECT ... FOR UPDATE` joined the brand (the widget's default ordering) and locked both rows for the
whole render, while the ingest's deferred foreign-key checks (FOR KEY SHARE) took the same rows.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from testimonials.widgets import services
from tests.factories import BrandFactory, WidgetFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _second_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        user=s.get("USER") or "postgres",
        password=s.get("PASSWORD") or None,
        dbname=s["NAME"],
        autocommit=False,
    )


def _can_lock(table: str, row_id: int, mode: str) -> bool:
    """Whether another connection takes `mode` on the row at once (NOWAIT) while the publish is rendering."""
    other = _second_connection()
    try:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s {mode} NOWAIT", [row_id])
        return True
    except psycopg.errors.LockNotAvailable:
        return False
    finally:
        other.rollback()
        other.close()


def test_it_lets_key_checks_through_while_a_publish_renders(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    brand = BrandFactory(allowed_domains=["https://shop.example.com"])
    widget = WidgetFactory(brand=brand, publish_requested_at=timezone.now())
    seen = {}
    render = services.widget_render

    def render_and_probe(locked_widget):
        # Inside the publish's transaction, after its lock.
        seen["brand key share"] = _can_lock("testimonials_brand", brand.id, "FOR KEY SHARE")
        seen["widget key share"] = _can_lock("testimonials_widget", widget.id, "FOR KEY SHARE")
        seen["another publish"] = _can_lock("testimonials_widget", widget.id, "FOR NO KEY UPDATE")
        return render(locked_widget)

    monkeypatch.setattr(services, "widget_render", render_and_probe)

    version = services.widget_publish(widget_id=widget.id)

    assert version not in ("missing", "unchanged")
    assert seen == {"brand key share": True, "widget key share": True, "another publish": False}
