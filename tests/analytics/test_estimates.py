"""The influence estimators: posteriors, the difference with its interval, holdout lift, the SRM alarm."""

from __future__ import annotations

import random

import pytest

from testimonials.analytics import estimates
from testimonials.analytics.estimates import EstimateError, compare, holdout_lift, influence, sample_ratio_mismatch


def _monte_carlo(exposed: tuple[int, int], baseline: tuple[int, int], *, draws: int = 100_000, seed: int = 7):
    """The reference: sorted draws of the difference of the two uniform-prior posteriors."""
    rng = random.Random(seed)
    (c1, n1), (c2, n2) = exposed, baseline
    diffs = sorted(rng.betavariate(c1 + 1, n1 - c1 + 1) - rng.betavariate(c2 + 1, n2 - c2 + 1) for _ in range(draws))
    return diffs[int(0.025 * draws)], diffs[int(0.975 * draws)], sum(d > 0 for d in diffs) / draws


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def test_it_uses_a_uniform_prior():
    post = estimates.posterior(conversions=3, visitors=10)
    assert (post.alpha, post.beta) == (4, 8)
    assert post.mean == pytest.approx(4 / 12)


@pytest.mark.parametrize(
    "exposed, baseline",
    [
        ((40, 300), (300, 3000)),  # a common case: rates near 10%
        ((10, 200), (100, 5000)),  # the minimum sample against a large baseline
        ((2, 200), (30, 5000)),  # few conversions: a skewed posterior
        ((0, 200), (50, 10000)),  # no conversion at all: the most skewed case
        ((5, 1000), (1, 200)),  # skewed the other way
    ],
)
def test_it_matches_a_monte_carlo_reference(exposed, baseline):
    result = compare(
        exposed_conversions=exposed[0],
        exposed_visitors=exposed[1],
        baseline_conversions=baseline[0],
        baseline_visitors=baseline[1],
    )
    shape = estimates.difference_distribution(
        estimates.posterior(conversions=exposed[0], visitors=exposed[1]),
        estimates.posterior(conversions=baseline[0], visitors=baseline[1]),
    )
    low, high, better = _monte_carlo(exposed, baseline)
    assert abs(result.low - low) < 0.25 * shape.sd
    assert abs(result.high - high) < 0.25 * shape.sd
    assert result.probability_better == pytest.approx(better, abs=0.015)
    assert result.low < result.difference < result.high


@pytest.mark.parametrize(
    "rates, sizes",
    [((0.06, 0.04), (400, 2000)), ((0.02, 0.02), (300, 1500)), ((0.15, 0.10), (250, 250))],
)
def test_it_covers_the_true_difference_about_95_percent_of_the_time(rates, sizes):
    rng = random.Random(20261205)
    trials, covered = 400, 0
    for _ in range(trials):
        conv = [_binomial(rng, n, p) for n, p in zip(sizes, rates, strict=True)]
        result = compare(
            exposed_conversions=conv[0],
            exposed_visitors=sizes[0],
            baseline_conversions=conv[1],
            baseline_visitors=sizes[1],
        )
        covered += result.low <= rates[0] - rates[1] <= result.high
    assert 0.90 <= covered / trials <= 0.98


def test_it_says_not_enough_data_below_the_minimum_sample():
    result = compare(exposed_conversions=20, exposed_visitors=199, baseline_conversions=10, baseline_visitors=5000)
    assert not result.enough_data
    assert result.difference is None and result.low is None and result.probability_better is None
    assert result.summary == "not enough data yet"
    # The baseline needs the sample too.
    assert not compare(
        exposed_conversions=20, exposed_visitors=5000, baseline_conversions=1, baseline_visitors=150
    ).enough_data
    at_minimum = compare(exposed_conversions=20, exposed_visitors=200, baseline_conversions=10, baseline_visitors=200)
    assert at_minimum.enough_data


def test_it_finds_a_clear_winner_and_a_clear_loser():
    winner = compare(exposed_conversions=120, exposed_visitors=1000, baseline_conversions=300, baseline_visitors=6000)
    assert winner.difference == pytest.approx(121 / 1002 - 301 / 6002)
    assert winner.low > 0 and winner.probability_better > 0.999
    assert winner.summary.startswith("+7.1 pts (+5.0 to +9.2)") and winner.summary.endswith(">99.9% likely better")
    loser = compare(exposed_conversions=20, exposed_visitors=1000, baseline_conversions=300, baseline_visitors=6000)
    assert loser.high < 0 and loser.probability_better < 0.001


def test_it_gives_an_even_chance_to_equal_groups():
    result = compare(exposed_conversions=30, exposed_visitors=600, baseline_conversions=30, baseline_visitors=600)
    assert result.difference == pytest.approx(0)
    assert result.probability_better == pytest.approx(0.5)
    assert result.low == pytest.approx(-result.high)


def test_it_takes_the_viewers_out_of_the_baseline():
    result = influence(viewers=300, viewer_conversions=30, widget_visitors=1000, widget_conversions=44)
    assert (result.baseline_visitors, result.baseline_conversions) == (700, 14)
    assert result.exposed_rate == pytest.approx(31 / 302)


def test_it_refuses_viewers_who_are_not_part_of_the_widget_audience():
    with pytest.raises(EstimateError, match="must be part of"):
        influence(viewers=300, viewer_conversions=30, widget_visitors=200, widget_conversions=44)
    with pytest.raises(EstimateError, match="must be part of"):
        influence(viewers=300, viewer_conversions=30, widget_visitors=2000, widget_conversions=20)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(exposed_conversions=-1, exposed_visitors=10), "cannot be negative"),
        (dict(exposed_conversions=11, exposed_visitors=10), "more conversions"),
        (dict(exposed_conversions=1.5, exposed_visitors=10), "whole number"),
        (dict(exposed_conversions=True, exposed_visitors=10), "whole number"),
    ],
)
def test_it_refuses_counts_that_cannot_describe_visitors(kwargs, message):
    with pytest.raises(EstimateError, match=message):
        compare(**kwargs, baseline_conversions=1, baseline_visitors=10)


def test_it_refuses_a_bad_level_or_minimum():
    counts = dict(exposed_conversions=1, exposed_visitors=300, baseline_conversions=1, baseline_visitors=300)
    with pytest.raises(EstimateError, match="credible level"):
        compare(**counts, level=1.5)
    with pytest.raises(EstimateError, match="minimum sample"):
        compare(**counts, min_sample=0)


def test_it_measures_holdout_lift_shown_against_held_out():
    lift = holdout_lift(shown=9500, shown_conversions=475, held_out=500, held_out_conversions=15)
    assert lift.enough_data
    assert lift.exposed_visitors == 9500 and lift.baseline_visitors == 500
    assert lift.low < lift.difference < lift.high
    assert lift.probability_better > 0.97
    assert not holdout_lift(shown=9500, shown_conversions=475, held_out=150, held_out_conversions=5).enough_data


def test_it_stays_quiet_when_the_split_matches_its_setting():
    srm = sample_ratio_mismatch(shown=9500, held_out=500, holdout_share=0.05)
    assert srm.chi_square == pytest.approx(0)
    assert srm.p_value == pytest.approx(1)
    assert not srm.alarm
    assert srm.observed_share == pytest.approx(0.05)
    # Chance drift stays under the alarm: 540 held out of 10,000 at 5% is p ~ 0.07.
    assert not sample_ratio_mismatch(shown=9460, held_out=540, holdout_share=0.05).alarm


def test_it_raises_the_alarm_when_the_split_drifts():
    srm = sample_ratio_mismatch(shown=9350, held_out=650, holdout_share=0.05)
    # chi2 = 150^2/500 + 150^2/9500 = 47.37; its survival function with one degree of freedom ~ 5.9e-12.
    assert srm.chi_square == pytest.approx(47.368, rel=1e-3)
    assert srm.p_value == pytest.approx(5.86e-12, rel=0.02)
    assert srm.alarm


def test_it_knows_the_chi_square_critical_value():
    # 10.828 is the chi-square critical value at p = 0.001 with one degree of freedom.
    total, share = 100_000, 0.5
    for offset, alarm in ((521, True), (519, False)):  # chi2 = 4 * offset^2 / total: 10.86 and 10.77
        held = int(total * share) + offset
        result = sample_ratio_mismatch(shown=total - held, held_out=held, holdout_share=share)
        assert result.alarm is alarm


def test_it_says_nothing_about_an_empty_holdout():
    srm = sample_ratio_mismatch(shown=0, held_out=0, holdout_share=0.05)
    assert not srm.alarm and srm.observed_share is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(shown=10, held_out=1, holdout_share=0), "strictly between"),
        (dict(shown=10, held_out=1, holdout_share=1), "strictly between"),
        (dict(shown=-1, held_out=1, holdout_share=0.1), "shown must be"),
        (dict(shown=10, held_out=2.5, holdout_share=0.1), "held_out must be"),
    ],
)
def test_it_refuses_a_bad_split(kwargs, message):
    with pytest.raises(EstimateError, match=message):
        sample_ratio_mismatch(**kwargs)


def test_it_writes_probabilities_a_person_can_read():
    assert estimates.percent(0.5) == "50%"
    assert estimates.percent(0.9999) == ">99.9%"
    assert estimates.percent(0.00001) == "<0.1%"
    assert estimates.percent(0.995) == "99.5%"
    assert estimates.points(-0.0123) == "-1.2 pts"
