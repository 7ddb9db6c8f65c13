"""A real browser for page tests: Debian's chromium driven by Playwright (no browser is downloaded).

The `browser` fixture skips, with the reason, where chromium or Playwright is missing; a strict run
(`.ci/run`, which installs both) fails on that skip instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the worker's session."""
    executable = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
