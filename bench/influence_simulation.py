"""The "Best performing (auto)" order against known truth: a simulation, not a measurement of people.

    .venv/bin/python bench/influence_simulation.py                 # 20 seeds x 100k visitors, charts in docs/
    .venv/bin/python bench/influence_simulation.py --seeds 1 --visitors 20000 --no-charts

The world (every number is an argument):
- 40 testimonials with true conversion rates drawn uniformly between 0.5% and 5%; 30 are there from
  the start and 10 more arrive evenly over the run (newest-first puts each on top; auto must try it);
- a visitor reads the wall from the top: the first card with probability 0.9, each next one with
  probability 0.8 if they read the one before (attention decays by position); each card read is a
  real view (the only trial the sampler counts), and converts the visitor with its true rate, which
  ends the visit (the conversion is credited to that card: the last one seen);
- 100,000 visitors per seed.

The orders compared, on the same visitors:
- newest first; random (a fresh shuffle per visitor); manual (the brand ranks its testimonials once
  by a noisy guess of which sell, log-normal noise with sigma 1, and appends newcomers at the end);
- auto: the code path widgets use, `testimonials.influence.sampler.posteriors` over the counts the
  rollups would hold at the last republish (every `--refresh` visitors: 50 is five minutes at ten
  visitors a minute, the beat task's cadence) and `thompson_order` per visitor with the shipped
  exploration share and prior;
- the oracle: sorted by the true rates (unknowable; the ceiling).

Scored by expected conversions: each visitor's chance to convert under the order they were shown
(exact, from the attention model and the true rates), summed. Auto learns only from the simulated
outcomes, never from the truth. Regret is the oracle's expected conversions minus the order's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testimonials.influence.sampler import EXPLORATION, Counts, posteriors, thompson_order  # noqa: E402

ORDERS = ("oracle", "auto", "manual", "newest", "random")


@dataclass
class World:
    rates: list[float]
    arrivals: list[int]  # the visitor index at which each testimonial appears
    manual_guess: list[float]


@dataclass
class Result:
    expected: dict[str, float]
    curves: dict[str, list[float]] = field(default_factory=dict)  # cumulative expected conversions at checkpoints
    checkpoints: list[int] = field(default_factory=list)


def make_world(
    rng: random.Random, *, items: int = 40, initial: int = 30, visitors: int = 100_000, low=0.005, high=0.05
) -> World:
    if not 0 < initial <= items:
        raise ValueError("initial must be between 1 and items")
    rates = [rng.uniform(low, high) for _ in range(items)]
    late = items - initial
    arrivals = [0] * initial + [int(visitors * (k + 1) / (late + 1)) for k in range(late)]
    guess = [r * rng.lognormvariate(0, 1.0) for r in rates]
    return World(rates, arrivals, guess)


def expected_conversion(order: list[int], rates: list[float], *, first: float, keep: float) -> float:
    """The chance that a visitor shown `order` converts: read card i with first * keep**i, convert on it."""
    total, reach = 0.0, first
    for i in order:
        if reach < 1e-6:
            break
        total += reach * rates[i]
        reach *= keep * (1 - rates[i])
    return total


def simulate(
    seed: int,
    *,
    visitors: int = 100_000,
    items: int = 40,
    initial: int = 30,
    refresh: int = 50,
    first: float = 0.9,
    keep: float = 0.8,
    exploration: float = EXPLORATION,
    points: int = 50,
) -> Result:
    world_rng = random.Random(seed)
    world = make_world(world_rng, items=items, initial=initial, visitors=visitors)
    rates = world.rates
    visit_rng = random.Random(seed * 7919 + 1)  # the visitors' reading and converting
    shuffle_rng = random.Random(seed * 104729 + 2)  # the random order's shuffles
    sampler_rng = random.Random(seed * 1299709 + 3)  # the widget document's draws
    views, wins = [0] * items, [0] * items
    expected = dict.fromkeys(ORDERS, 0.0)
    every = max(1, visitors // points)
    result = Result(expected=expected, curves={name: [] for name in ORDERS})
    present: list[int] = []
    fixed: dict[str, list[int]] = {}
    current = []
    for visitor in range(visitors):
        arrived = [i for i in range(items) if world.arrivals[i] == visitor]
        if arrived or not present:
            present = [i for i in range(items) if world.arrivals[i] <= visitor]
            fixed = {
                "oracle": sorted(present, key=lambda i: -rates[i]),
                "newest": sorted(present, key=lambda i: (-world.arrivals[i], i)),
                # The brand ranked the first ones once and adds each newcomer at the end.
                "manual": sorted((i for i in present if world.arrivals[i] == 0), key=lambda i: -world.manual_guess[i])
                + sorted((i for i in present if world.arrivals[i] > 0), key=lambda i: world.arrivals[i]),
            }
            fixed_value = {name: expected_conversion(o, rates, first=first, keep=keep) for name, o in fixed.items()}
        if visitor % refresh == 0 or arrived:
            # The debounced republish: the published data carries the posteriors of the rollups as they are now.
            current = posteriors([Counts(str(i), views[i], wins[i]) for i in present])
        for name, value in fixed_value.items():
            expected[name] += value
        shuffled = present[:]
        shuffle_rng.shuffle(shuffled)
        expected["random"] += expected_conversion(shuffled, rates, first=first, keep=keep)

        order = [int(key) for key in thompson_order(current, rng=sampler_rng, exploration=exploration)]
        expected["auto"] += expected_conversion(order, rates, first=first, keep=keep)
        # What this visitor does under the auto order: the only thing auto learns from.
        if visit_rng.random() < first:
            for i in order:
                views[i] += 1
                if visit_rng.random() < rates[i]:
                    wins[i] += 1
                    break
                if visit_rng.random() >= keep:
                    break
        if (visitor + 1) % every == 0 or visitor + 1 == visitors:
            result.checkpoints.append(visitor + 1)
            for name in ORDERS:
                result.curves[name].append(expected[name])
    return result


# --------------------------------------------------------------------------- charts

STYLES = {  # readable without colour: each line has its own dash pattern and a label at its end
    "oracle": ("#111827", ""),
    "auto": ("#4f46e5", ""),
    "manual": ("#b45309", "8 4"),
    "newest": ("#dc2626", "2 4"),
    "random": ("#059669", "12 4 2 4"),
}
LABELS = {
    "oracle": "oracle",
    "auto": "auto (Vouch)",
    "manual": "manual",
    "newest": "newest first",
    "random": "random",
}


def svg_chart(title: str, xs: list[int], series: dict[str, list[float]], *, y_label: str) -> str:
    width, height, left, right, top, bottom = 800, 420, 70, 190, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(max(v) for v in series.values()) or 1
    y_max = _nice(y_max)
    x_max = xs[-1]

    def px(x):
        return left + plot_w * x / x_max

    def py(y):
        return top + plot_h * (1 - y / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="13" role="img" aria-label="{title}">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">{title}</text>',
    ]
    for k in range(6):
        y = y_max * k / 5
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:,.0f}</text>')
    for k in range(6):
        x = x_max * k / 5
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 20}" text-anchor="middle">{x / 1000:,.0f}k</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">visitors</text>')
    out.append(
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" transform="rotate(-90 16 {top + plot_h / 2})">'
        f"{y_label}</text>"
    )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#9ca3af"/>')
    ends = []
    for name, ys in series.items():
        colour, dash = STYLES[name]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip([0, *xs], [0, *ys], strict=True))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        ends.append([py(ys[-1]), name, ys[-1]])
    # Labels at the line ends, pushed apart so they never overlap.
    ends.sort()
    for k in range(1, len(ends)):
        ends[k][0] = max(ends[k][0], ends[k - 1][0] + 16)
    for y, name, value in ends:
        label = f"{LABELS[name]} ({value:,.0f})"
        out.append(f'<text x="{left + plot_w + 8}" y="{y + 4:.1f}" fill="{STYLES[name][0]}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _nice(value: float) -> float:
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if step * magnitude >= value:
            return step * magnitude
    return value


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--visitors", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--initial", type=int, default=30)
    parser.add_argument("--refresh", type=int, default=50, help="visitors between republishes")
    parser.add_argument("--no-charts", action="store_true")
    args = parser.parse_args(argv)
    if not 30 <= args.items <= 50:
        print("note: the issue's setup is 30 to 50 testimonials", file=sys.stderr)
    shares: dict[str, list[float]] = {name: [] for name in ORDERS}
    vs_newest = []
    first_result = None
    for seed in range(1, args.seeds + 1):
        result = simulate(seed, visitors=args.visitors, items=args.items, initial=args.initial, refresh=args.refresh)
        first_result = first_result or result
        oracle = result.expected["oracle"]
        for name in ORDERS:
            shares[name].append(result.expected[name] / oracle)
        vs_newest.append(result.expected["auto"] / result.expected["newest"])
        print(
            f"seed {seed:2d}: "
            + "  ".join(f"{name} {result.expected[name]:7.0f}" for name in ORDERS)
            + f"  auto/oracle {result.expected['auto'] / oracle:.3f}",
            flush=True,
        )
    print()
    print(f"{args.seeds} seeds x {args.visitors:,} visitors, {args.items} testimonials, refresh every {args.refresh}")
    print("| order | share of the oracle's conversions: mean | min | max |")
    print("|---|---:|---:|---:|")
    for name in ORDERS:
        values = shares[name]
        print(f"| {LABELS[name]} | {statistics.mean(values):.1%} | {min(values):.1%} | {max(values):.1%} |")
    print(
        f"\nauto against newest first: mean {statistics.mean(vs_newest):.2f}x, min {min(vs_newest):.2f}x, "
        f"max {max(vs_newest):.2f}x"
    )
    if not args.no_charts and first_result:
        docs = ROOT / "docs"
        r = first_result
        (docs / "influence-conversions.svg").write_text(
            svg_chart(
                "Cumulative expected conversions, seed 1 (100k visitors)",
                r.checkpoints,
                r.curves,
                y_label="conversions",
            )
        )
        regret = {
            name: [o - v for o, v in zip(r.curves["oracle"], r.curves[name], strict=True)]
            for name in ORDERS
            if name != "oracle"
        }
        (docs / "influence-regret.svg").write_text(
            svg_chart("Cumulative regret against the oracle, seed 1", r.checkpoints, regret, y_label="lost conversions")
        )
        print("charts: docs/influence-conversions.svg, docs/influence-regret.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
