"""The beacon endpoint: what it refuses (with a status and a reason) and what it buffers."""

from __future__ import annotations

import json

import pytest

from testimonials.analytics.buffer import get_buffer
from testimonials.analytics.models import Event, WidgetHoldout
from tests.analytics.conftest import HOST, OWN, drain


def buffered() -> list[dict]:
    return [json.loads(e.data) for e in get_buffer().claim(consumer="peek", count=1000)]


def test_it_buffers_a_frame_batch_and_answers_204_without_writing_events(beacons, cards, django_assert_num_queries):
    # Warm the per-process caches (widget facts, salt): a beacon then costs no query at all.
    beacons.frame([[beacons.eid(), "imp"]])
    with django_assert_num_queries(0):
        response = beacons.frame([[beacons.eid(), "view", cards[0].public_id]])
    assert response.status_code == 204
    assert Event.objects.count() == 0
    records = buffered()
    assert [e[1] for r in records for e in r["e"]] == ["imp", "view"]


def test_it_refuses_an_unknown_widget(client, db):
    response = client.post(
        "/widgets/nosuchwidget/events", data='{"e":[["abcdefgh","imp"]]}', content_type="text/plain",
        HTTP_ORIGIN=OWN,
    )  # fmt: skip
    assert response.status_code == 404
    assert buffered() == []


def test_it_refuses_a_foreign_origin(beacons):
    response = beacons.host([[beacons.eid(), "convert", "", 10, "EUR", "o-1"]], origin="https://evil.example.net")
    assert response.status_code == 403
    assert "not among this widget's allowed sites" in response.content.decode()
    assert buffered() == []


def test_it_refuses_a_frame_batch_that_names_a_foreign_host_page(beacons):
    response = beacons.post({"o": "https://evil.example.net", "e": [[beacons.eid(), "imp"]]})
    assert response.status_code == 403
    assert buffered() == []


def test_it_refuses_a_request_without_origin(beacons):
    response = beacons.post({"o": HOST, "e": [[beacons.eid(), "imp"]]}, origin="null")
    assert response.status_code == 403
    assert buffered() == []


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36",
        "python-requests/2.32",
        "curl/8.5.0",
        "",
    ],
)
def test_it_refuses_known_bots(beacons, ua):
    response = beacons.frame([[beacons.eid(), "imp"]], ua=ua)
    assert response.status_code == 403
    assert buffered() == []


def test_it_refuses_an_oversized_batch(beacons, settings):
    settings.ANALYTICS_MAX_BEACON_BYTES = 1024
    events = [[beacons.eid(), "imp"] for _ in range(60)]
    response = beacons.frame(events)
    assert response.status_code == 413
    assert buffered() == []


def test_it_refuses_too_many_events(beacons, settings):
    settings.ANALYTICS_MAX_EVENTS = 5
    response = beacons.frame([[beacons.eid(), "imp"] for _ in range(6)])
    assert response.status_code == 400
    assert "At most 5 events" in response.content.decode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        ({"o": HOST, "e": []}, "non-empty list"),
        ({"o": HOST, "e": [["short", "imp"]]}, "8 to 32"),
        ({"o": HOST, "e": [["abcdefgh1", "dance"]]}, "unknown kind"),
        ({"o": HOST, "e": [["abcdefgh1", "view"]]}, "names a testimonial"),
        ({"o": HOST, "e": [["abcdefgh1", "imp", "someone"]]}, "names no testimonial"),
        ({"o": HOST, "e": [["abcdefgh1", "convert", "", 5]]}, "cannot come from the widget document"),
        ({"o": HOST, "e": [["abcdefgh1", "imp"]], "x": 1}, "Unknown field"),
    ],
)
def test_it_refuses_a_malformed_frame_batch_saying_why(beacons, body, reason):
    response = beacons.post(body)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert buffered() == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (["abcdefgh1", "convert", "", -5, "EUR", "o-1"], "between 0"),
        (["abcdefgh1", "convert", "", "lots", "EUR", "o-1"], "must be a number"),
        (["abcdefgh1", "convert", "", 5, "euros", "o-1"], "ISO 4217"),
        (["abcdefgh1", "convert", "", 5, "EUR", "x" * 101], "order id"),
        (["abcdefgh1", "imp"], "cannot come from the host page"),
    ],
)
def test_it_refuses_a_malformed_conversion_saying_why(beacons, event, reason):
    response = beacons.host([event])
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_it_answers_the_host_page_with_cors_so_the_browser_sends_its_origin(beacons):
    response = beacons.host([[beacons.eid(), "convert", "", 49, "EUR", "order-1"]])
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == HOST


def test_it_accepts_a_wildcard_allowed_site(beacons, brand_a):
    brand_a.allowed_domains = ["https://*.example.org"]
    brand_a.save()
    response = beacons.host([[beacons.eid(), "convert", "", 1, "", ""]], origin="https://www.example.org")
    assert response.status_code == 204
    assert beacons.host([[beacons.eid(), "convert"]], origin="https://example.org").status_code == 403


def test_it_refuses_get(beacons, widget_a, client):
    assert client.get(f"/widgets/{widget_a.public_id}/events", HTTP_ORIGIN=OWN).status_code == 405


def test_it_stores_no_ip_anywhere(beacons, cards):
    ip = "198.51.100.23"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=ip)
    beacons.host([[beacons.eid(), "convert", "", 5, "EUR", "o-9"]], ip=ip)
    raw = b"".join(path.read_bytes() for path in get_buffer().queue.iterdir())
    assert raw and ip.encode() not in raw
    drain()
    from django.db import connection

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if not table.startswith("testimonials_"):
                continue
            cursor.execute(f"SELECT * FROM {table}")
            for row in cursor.fetchall():
                assert ip not in " ".join(str(v) for v in row), table


def test_it_answers_hello_with_the_holdout_arm_and_a_seed(beacons, widget_a):
    WidgetHoldout.objects.create(widget=widget_a, percent=50)
    arms = set()
    for n in range(40):
        response = beacons.post(b"", origin=HOST, path="hello", ip=f"203.0.113.{n}")
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == HOST
        answer = response.json()
        assert set(answer) == {"h", "s"}
        arms.add(answer["h"])
    assert arms == {0, 1}
    # The same visitor gets the same answer.
    first = beacons.post(b"", origin=HOST, path="hello", ip="203.0.113.1").json()
    assert beacons.post(b"", origin=HOST, path="hello", ip="203.0.113.1").json() == first
    drain()
    from testimonials.analytics.models import HoldoutAssignment, HoldoutDaily

    assert HoldoutAssignment.objects.count() == 40
    daily = HoldoutDaily.objects.get(widget=widget_a)
    assert daily.shown_visitors + daily.held_visitors == 40
    assert daily.percent == 50


def test_it_never_holds_out_without_a_holdout(beacons):
    for n in range(20):
        assert beacons.post(b"", origin=HOST, path="hello", ip=f"203.0.113.{n}").json()["h"] == 0
    assert buffered() == []


def _database_down(monkeypatch):
    from django.db import OperationalError

    from testimonials.analytics import selectors

    def down(public_id):
        raise OperationalError("connection failed: the database system is shutting down")

    monkeypatch.setattr(selectors, "widget_facts_load", down)


def test_it_keeps_accepting_beacons_while_the_database_restarts(beacons, monkeypatch):
    from testimonials.analytics import selectors

    assert beacons.frame([[beacons.eid(), "imp"]]).status_code == 204  # the process knows the widget
    later = selectors.time.monotonic() + selectors.FACTS_TTL_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)  # its entry has expired
    _database_down(monkeypatch)

    response = beacons.frame([[beacons.eid(), "imp"]])

    assert response.status_code == 204
    assert len(buffered()) == 2


def test_it_answers_503_for_a_widget_it_never_saw_while_the_database_is_down(beacons, monkeypatch):
    _database_down(monkeypatch)

    response = beacons.frame([[beacons.eid(), "imp"]])

    assert response.status_code == 503
    assert response.content.decode() == "Events cannot be stored right now."
    assert buffered() == []
