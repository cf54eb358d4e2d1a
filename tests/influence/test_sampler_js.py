"""The widget document's sampler (the order block of static/widget/frame.js) against the Python one.

Both draw 20,000 orders from the same posteriors; the frequency of each testimonial at each of the
first three ranks must agree within sampling noise. Needs node (skipped, and said so, without it).
"""

import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from testimonials.influence.sampler import Posterior, thompson_order

FRAME_JS = Path(settings.BASE_DIR) / "static" / "widget" / "frame.js"
NODE = shutil.which("node")
RUNS = 20000
ITEMS = [
    Posterior("a", 0.4, 19.6),  # new: the weak prior
    Posterior("b", 30.4, 969.6),
    Posterior("c", 12.4, 987.6),
    Posterior("d", 3.2, 150.8),
    Posterior("e", 45.0, 955.0),
    Posterior("f", 1.5, 0.5),
]
PINNED = ["d"]

RUNNER = """
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8");
const block = source.match(/\\/\\* order:start[\\s\\S]*?\\/\\* order:end \\*\\//)[0];
const vouchOrder = new Function(block + "; return vouchOrder;")();
let seed = 12345;
function rng() {  // mulberry32
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const input = JSON.parse(process.argv[3]);
const counts = {};
for (let r = 0; r < input.runs; r++) {
  const keys = vouchOrder.order(input.items, input.pinned, input.explore, rng);
  if (keys.length !== input.items.length) throw new Error("dropped an item");
  keys.slice(0, 3).forEach((k, rank) => { counts[rank + ":" + k] = (counts[rank + ":" + k] || 0) + 1; });
}
process.stdout.write(JSON.stringify(counts));
"""


def _python_counts(explore: float) -> Counter:
    rng = random.Random(2024)
    counts = Counter()
    for _ in range(RUNS):
        for rank, key in enumerate(thompson_order(ITEMS, rng=rng, pinned=PINNED, exploration=explore)[:3]):
            counts[f"{rank}:{key}"] += 1
    return counts


def _js_counts(tmp_path, explore: float) -> Counter:
    script = tmp_path / "run.js"
    script.write_text(RUNNER)
    payload = {
        "runs": RUNS,
        "pinned": PINNED,
        "explore": explore,
        "items": [{"key": p.key, "a": p.alpha, "b": p.beta} for p in ITEMS],
    }
    out = subprocess.run(
        [NODE, str(script), str(FRAME_JS), json.dumps(payload)], capture_output=True, text=True, check=True, timeout=120
    )
    return Counter(json.loads(out.stdout))


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("explore", [0.0, 0.1])
def test_it_orders_like_the_python_sampler_in_the_widget_document(tmp_path, explore):
    python, js = _python_counts(explore), _js_counts(tmp_path, explore)
    assert js["0:d"] == RUNS  # pinned first, in both
    for cell in set(python) | set(js):
        p, q = python[cell] / RUNS, js[cell] / RUNS
        # Four standard errors of a difference of two proportions, plus a little for rare cells.
        noise = 4 * ((p * (1 - p) + q * (1 - q)) / RUNS) ** 0.5 + 0.002
        assert abs(p - q) <= noise, (cell, p, q)
