"""Schemathesis hooks for the API fuzz run (tests/integration/test_api_fuzz.py), loaded by the CLI through
SCHEMATHESIS_HOOKS: one more check, that no answer carries another brand's data."""

from __future__ import annotations

import os

import schemathesis

# What only brand B holds (public ids, a name, an email): the fuzzing key belongs to brand A.
FOREIGN = [marker for marker in os.environ.get("VOUCH_FUZZ_FOREIGN", "").split(",") if marker]


@schemathesis.check
def no_other_brands_data(ctx, response, case):
    leaked = [marker for marker in FOREIGN if marker in response.text]
    if leaked:
        raise AssertionError(f"An answer to brand A's key holds brand B's data: {leaked}")
    return None
