"""The simulation with known truth, small and on a fixed seed: it keeps the ordering code honest.

bench/influence_simulation.py imports the same posteriors() and thompson_order() the widget data and
document use; if they stop learning, auto falls toward random here.
"""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.conf import settings

SPEC = importlib.util.spec_from_file_location(
    "influence_simulation", Path(settings.BASE_DIR) / "bench" / "influence_simulation.py"
)
simulation = importlib.util.module_from_spec(SPEC)
sys.modules.setdefault("influence_simulation", simulation)  # dataclasses look their module up
SPEC.loader.exec_module(simulation)


def test_it_collects_most_of_the_oracles_conversions_and_beats_newest_first():
    result = simulation.simulate(3, visitors=8000, items=30, initial=24, refresh=50)
    expected = result.expected
    assert expected["auto"] >= 0.85 * expected["oracle"]
    assert expected["auto"] >= 1.15 * expected["newest"]
    assert expected["auto"] > expected["random"]
    assert expected["oracle"] >= max(expected.values()) - 1e-9


def test_it_scores_an_order_by_the_attention_model():
    # Read the first with 0.9, the second with 0.9 * 0.8 if the first did not convert.
    value = simulation.expected_conversion([0, 1], [0.5, 0.1], first=0.9, keep=0.8)
    assert value == pytest.approx(0.9 * 0.5 + 0.9 * 0.8 * 0.5 * 0.1)


def test_it_draws_the_issues_world():
    import random

    world = simulation.make_world(random.Random(1), items=40, initial=30, visitors=1000)
    assert all(0.005 <= r <= 0.05 for r in world.rates)
    assert sorted(world.arrivals)[:30] == [0] * 30 and max(world.arrivals) < 1000
    with pytest.raises(ValueError, match="initial"):
        simulation.make_world(random.Random(1), items=5, initial=6)
