"""The "Best performing (auto)" order: Thompson sampling over Beta posteriors, pure Python.

Two halves, used by the widget and by the simulation alike:

- `posteriors()` turns per-testimonial counts (real views as trials, the goal's actions as successes)
  into Beta(alpha, beta) parameters. It runs at publish time; the published widget data carries them.
- `thompson_order()` draws one sample per testimonial and orders by it. In a browser the widget
  document does this per page view (static/widget/order.js is a faithful port, held to this one by
  tests/influence/test_sampler_js.py); the simulation (bench/influence_simulation.py) calls this.

Guard rails:
- trials are views (at least half the card on screen for a second), never impressions: a card far
  down the page is not blamed for being skipped (position bias);
- a new testimonial starts from a weak prior centred on the widget's pooled rate, so it is tried
  soon and judged on its own data quickly;
- `exploration` of page views put one uniformly chosen testimonial first, so each one keeps at
  least `exploration / n` of the top slot however badly it has done;
- pinned testimonials (the brand's featured ones) keep their place at the top, in their order;
- nothing is dropped: the order is a permutation of what it was given (FTC 16 CFR 465).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# How many page views' worth of evidence the prior is worth: weak, so ~a day of real views outweighs it.
PRIOR_STRENGTH = 20.0
# The pooled rate is floored so a widget with no successes yet still explores.
PRIOR_MIN_RATE = 0.005
# Share of page views whose top slot goes to a uniformly chosen testimonial.
EXPLORATION = 0.1
# Posteriors are rounded in the published data (smaller, and a republish only when they move).
DIGITS = 2


@dataclass(frozen=True)
class Counts:
    """What a testimonial did in one widget: real views (trials) and the goal's actions (successes)."""

    key: str
    views: int
    successes: int


@dataclass(frozen=True)
class Posterior:
    key: str
    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def pooled_rate(counts: Iterable[Counts]) -> float:
    counts = list(counts)
    views = sum(c.views for c in counts)
    successes = sum(min(c.successes, c.views) for c in counts)
    return max(PRIOR_MIN_RATE, successes / views) if views else PRIOR_MIN_RATE


def posteriors(counts: Sequence[Counts], *, strength: float = PRIOR_STRENGTH) -> list[Posterior]:
    """Beta posteriors per testimonial: a weak prior at the widget's pooled rate plus its own counts.

    Successes above views (a conversion credited without a counted view, e.g. a late beacon) are capped.
    """
    if strength <= 0:
        raise ValueError("The prior strength must be positive.")
    rate = min(pooled_rate(counts), 0.5)
    a0, b0 = rate * strength, (1 - rate) * strength
    found = []
    for c in counts:
        if c.views < 0 or c.successes < 0:
            raise ValueError(f"Counts cannot be negative ({c.key}: {c.views} views, {c.successes} successes).")
        s = min(c.successes, c.views)
        found.append(Posterior(c.key, round(a0 + s, DIGITS), round(b0 + c.views - s, DIGITS)))
    return found


def thompson_order(
    items: Sequence[Posterior],
    *,
    rng: random.Random,
    pinned: Sequence[str] = (),
    exploration: float = EXPLORATION,
) -> list[str]:
    """One page view's order: pinned keys first (in their order), then the rest by a Beta draw each.

    With probability `exploration` a uniformly chosen unpinned testimonial is moved to the first
    unpinned slot. Returns every key exactly once.
    """
    if not 0 <= exploration <= 1:
        raise ValueError("Exploration must be between 0 and 1.")
    pinned_set = set(pinned)
    head = [key for key in pinned if any(p.key == key for p in items)]
    rest = [p for p in items if p.key not in pinned_set]
    # Draw in the given order (the JS port does the same), so one seed gives one order.
    draws = [(rng.betavariate(p.alpha, p.beta), index, p.key) for index, p in enumerate(rest)]
    draws.sort(key=lambda d: (-d[0], d[1]))
    tail = [key for _draw, _index, key in draws]
    if tail and rng.random() < exploration:
        chosen = tail.pop(int(rng.random() * len(tail)) % len(tail))
        tail.insert(0, chosen)
    return head + tail
