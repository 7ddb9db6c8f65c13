"""A real browser for page tests: Debian's chromium driven by Playwright (no browser is downloaded).

The `browser` fixture skips, with the reason, where chromium or Playwright is missing; a strict run
(`.ci/run`, which installs both) fails on that skip instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is open,
# and tests of other modules that run their own loop (asyncio.run) must not find it there.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium for the test module."""
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
