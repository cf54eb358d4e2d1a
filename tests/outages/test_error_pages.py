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
    response = client_seeing_errors.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Server Error (500)" not in body
    assert "Sorry, that did not go through." in body
    assert "Your words are usually still in the form" in body
    assert "<style>" in body and "stylesheet" not in body  # renders with no static files and no database


def test_it_answers_an_unknown_page_with_a_friendly_404(client, db):
    response = client.get("/c/no-such-brand/no-such-form/")
    assert response.status_code == 404
    assert "We could not find that page." in response.content.decode()


@pytest.mark.parametrize("name", ["400.html", "403.html", "404.html", "429.html", "500.html"])
def test_it_has_a_branded_page_for_every_error_a_customer_may_meet(name):
    html = get_template(name).render({})
    assert "<title>" in html and "· Vouch</title>" in html
    assert "{%" not in html and "{{" not in html
