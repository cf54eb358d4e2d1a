"""Exports: the filtered list as CSV and JSON, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json

import pytest

from testimonials.models import Testimonial
from tests.factories import TagFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
CHANGELIST = "/admin/testimonials/testimonial/"


def _read(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.fixture
def rows(brand_a, form_a):
    tag = TagFactory(brand=brand_a, name="Homepage")
    five = TestimonialFactory(brand=brand_a, form=form_a, author_name="Five Star", rating=5, state=State.APPROVED)
    five.tags.add(tag)
    TestimonialFactory(
        brand=brand_a,
        form=form_a,
        author_name='=HYPERLINK("https://evil.example")',
        rating=2,
        state=State.PENDING_REVIEW,
        text="@SUM(1+1) naughty",
    )
    return five


def test_it_exports_what_the_list_shows_as_csv(rows, alice_client):
    response = alice_client.get(CHANGELIST + "export.csv?state=all&rating=5")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(_read(response))))
    assert [r["author_name"] for r in records] == ["Five Star"]
    assert records[0]["tags"] == "Homepage" and records[0]["brand"] == "brand-a" and records[0]["state"] == "approved"


def test_it_defuses_spreadsheet_formulas_in_csv(rows, alice_client):
    records = list(csv.DictReader(io.StringIO(_read(alice_client.get(CHANGELIST + "export.csv?rating=2")))))
    assert records[0]["author_name"].startswith("'=")
    assert records[0]["text"].startswith("'@")


def test_it_exports_the_default_queue_as_json(rows, alice_client):
    data = json.loads(_read(alice_client.get(CHANGELIST + "export.json")))
    assert [r["rating"] for r in data] == [2]
    assert data[0]["text"] == "@SUM(1+1) naughty"  # JSON keeps the text as written


def test_it_refuses_an_unknown_format_or_filter(rows, alice_client):
    assert alice_client.get(CHANGELIST + "export.xml").status_code == 400
    assert alice_client.get(CHANGELIST + "export.csv?brand__memberships__user__password=x").status_code == 400
