"""The Influence page's SVG charts: readable without colour, numbers in titles, escaped labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from testimonials.analytics.charts import Series, Step, funnel, line_chart

DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(7)]


def test_it_draws_each_line_with_its_own_pattern_and_name():
    svg = line_chart(
        DAYS, [Series("Impressions", [10, 20, 30, 40, 50, 60, 70]), Series("Views", [5, 6, 7, 8, 9, 10, 11])], title="T"
    )
    assert svg.count("<polyline") == 2
    assert 'stroke-dasharray="none"' in svg and 'stroke-dasharray="6 3"' in svg
    assert "<circle" in svg and "<rect" in svg  # two marker shapes
    assert "Impressions 70</text>" in svg and "Views 11</text>" in svg  # named at their ends
    assert "<title>Views, 03 Nov 2026: 7</title>" in svg
    assert 'aria-label="T (Impressions 280 in all; Views 56 in all)"' in svg
    assert ">100</text>" in svg  # the axis top, rounded up to 1, 2 or 5 x 10^k


def test_it_escapes_labels():
    svg = line_chart(DAYS, [Series("<b>x</b>", [1] * 7)], title="<script>")
    assert "<script>" not in svg and "<b>" not in svg


def test_it_refuses_more_lines_than_it_can_tell_apart():
    with pytest.raises(ValueError, match="at most 3"):
        line_chart(DAYS, [Series(str(i), [0] * 7) for i in range(4)], title="T")


def test_it_draws_an_empty_range():
    svg = line_chart([], [Series("Views", [])], title="Nothing")
    assert svg.startswith("<svg") and "<polyline" not in svg


def test_it_writes_each_funnel_step_with_its_share_of_the_step_above():
    svg = funnel([Step("Impressions", 1000), Step("Views", 400), Step("Conversions", 0)], title="Funnel")
    assert "40.0% (of impressions)" not in svg
    assert "400 (40.0% of impressions)" in svg
    assert "0 (0.0% of views)" in svg
    assert 'aria-label="Funnel: Impressions 1,000, Views 400, Conversions 0"' in svg


def test_it_writes_a_step_larger_than_the_one_above_per_item():
    svg = funnel([Step("Impressions", 1000), Step("Views", 2500)], title="Funnel")
    assert "2,500 (2.5 per impression)" in svg


def test_it_writes_a_share_of_the_step_named():
    svg = funnel([Step("Impressions", 1000), Step("Views", 400), Step("Conversions", 30, of=0)], title="F")
    assert "30 (3.0% of impressions)" in svg


def test_it_draws_a_funnel_with_nothing_in_it():
    svg = funnel([Step("Impressions", 0), Step("Views", 0)], title="Funnel")
    assert 'width="0"' in svg and "(" not in svg.split("</title>", 1)[1]
