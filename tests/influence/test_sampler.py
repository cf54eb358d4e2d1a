"""The auto order's statistics on a fixed seed: exploration floor, convergence, pinned items, nothing dropped."""

import random
from collections import Counter

import pytest

from testimonials.influence.sampler import Counts, Posterior, pooled_rate, posteriors, thompson_order


def _posteriors(rates_and_views):
    return posteriors([Counts(f"t{i}", views, round(views * rate)) for i, (rate, views) in enumerate(rates_and_views)])


def test_it_keeps_every_testimonial_above_the_exploration_floor():
    rng = random.Random(7)
    # t0 is overwhelmingly better: without the floor the others would almost never lead.
    items = _posteriors([(0.05, 20000)] + [(0.005, 20000)] * 9)
    tops = Counter(thompson_order(items, rng=rng, exploration=0.1)[0] for _ in range(20000))
    floor = 0.1 / len(items)
    for item in items[1:]:
        assert tops[item.key] / 20000 >= floor * 0.8, (item.key, tops[item.key])
    assert tops["t0"] / 20000 > 0.85


def test_it_converges_on_a_clear_winner_when_it_learns_from_its_own_draws():
    rng = random.Random(11)
    truth = [0.01, 0.01, 0.04, 0.01, 0.015]
    views, wins = [0] * 5, [0] * 5
    tops = Counter()
    for visitor in range(6000):
        if visitor % 100 == 0:
            current = posteriors([Counts(str(i), views[i], wins[i]) for i in range(5)])
        first = thompson_order(current, rng=rng, exploration=0.05)[0]
        i = int(first)
        views[i] += 1
        wins[i] += rng.random() < truth[i]
        if visitor >= 4000:
            tops[first] += 1
    assert tops["2"] / 2000 > 0.75


def test_it_keeps_pinned_items_first_in_their_order():
    rng = random.Random(3)
    items = _posteriors([(0.001, 5000), (0.05, 5000), (0.001, 5000), (0.04, 5000)])
    for _ in range(500):
        order = thompson_order(items, rng=rng, pinned=["t2", "t0"], exploration=0.5)
        assert order[:2] == ["t2", "t0"]


def test_it_never_drops_or_repeats_an_item():
    rng = random.Random(5)
    items = _posteriors([(0.01 * (i % 5 + 1), 100 * i) for i in range(30)])
    for _ in range(300):
        order = thompson_order(items, rng=rng, pinned=["t4", "missing"], exploration=0.3)
        assert sorted(order) == sorted(p.key for p in items)


def test_it_starts_new_testimonials_from_a_weak_prior_at_the_pooled_rate():
    found = posteriors([Counts("old", 10000, 300), Counts("new", 0, 0)])
    new = found[1]
    assert new.mean == pytest.approx(0.03, abs=0.001)
    assert new.alpha + new.beta == pytest.approx(20)  # worth twenty views: the first day outweighs it
    assert found[0].alpha + found[0].beta == pytest.approx(10020)


def test_it_floors_the_pooled_rate_of_a_widget_with_no_successes():
    assert pooled_rate([Counts("a", 1000, 0)]) == 0.005
    assert pooled_rate([]) == 0.005


def test_it_caps_successes_at_views_and_refuses_negative_counts():
    assert posteriors([Counts("a", 2, 5)])[0].beta == pytest.approx(posteriors([Counts("a", 2, 2)])[0].beta)
    with pytest.raises(ValueError, match="negative"):
        posteriors([Counts("a", -1, 0)])
    with pytest.raises(ValueError, match="Exploration"):
        thompson_order([Posterior("a", 1, 1)], rng=random.Random(1), exploration=2)
