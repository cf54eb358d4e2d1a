"""Customers never see a bare "Server Error (500)": every error page speaks in the product's voice."""

from __future__ import annotations

import pytest
from django.template.loader import get_template


@pytest.fixture
def client_seeing_errors(client):
    client.raise_request_exception = False
    return client


@pytest.mark.urls("tests.outages.urls")
def test_it_answers_a_server_error_with_a_friendly_page_that_says_the_text_is_kept(client_seeing_errors, db):
    response = client_seeing_errors.get("/bug/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Server Error (500)" not in body
    assert "Sorry, that did not go through." in body
    assert "Your words are usually still in the form" in body
    assert "<style>" in body and "stylesheet" not in body  # renders with no static files and no database


@pytest.mark.urls("tests.outages.urls")
def test_it_answers_a_page_failing_on_a_database_outage_with_503_back_in_a_minute(client_seeing_errors, db):
    response = client_seeing_errors.get("/boom/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "We will be right back." in body and "reload this page in a minute" in body
    assert "<style>" in body and "stylesheet" not in body


def test_the_api_answers_a_database_outage_with_a_503_problem_to_retry(client, db, monkeypatch):
    import django.db

    def down(*args, **kwargs):
        raise django.db.OperationalError("the connection is closed")

    monkeypatch.setattr("testimonials.api.auth.api_key_authenticate", down)
    response = client.get("/api/v1/testimonials/", HTTP_AUTHORIZATION="Bearer vch_anything")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    assert response.json()["type"] == "urn:vouch:problem:unavailable"


def test_it_answers_an_unknown_page_with_a_friendly_404(client, db):
    response = client.get("/c/no-such-brand/no-such-form/")
    assert response.status_code == 404
    assert "We could not find that page." in response.content.decode()


@pytest.mark.parametrize("name", ["400.html", "403.html", "404.html", "429.html", "500.html", "503.html"])
def test_it_has_a_branded_page_for_every_error_a_customer_may_meet(name):
    html = get_template(name).render({})
    assert "<title>" in html and "· Vouch</title>" in html
    assert "{%" not in html and "{{" not in html
