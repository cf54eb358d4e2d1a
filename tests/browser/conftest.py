"""Everything under tests/browser/ is a `browser` test. The `browser` and `page` fixtures live in
tests/browsers.py, shared with other suites that need a real browser."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
