"""axe-core for the accessibility tests: the script from the npm registry, never kept in the repository.

`.ci/run` installs the pinned version and names its `axe.min.js` in PDR_TEST_AXE_JS. Elsewhere the fixture looks in
the same place `.ci/run` installs to, and skips with the reason where it finds nothing; a strict run fails on that.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.axe import Axe

INSTALLED = Path(__file__).resolve().parents[2] / ".ci-node" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core, read once for the session."""
    named = os.environ.get("PDR_TEST_AXE_JS")
    path = Path(named) if named else INSTALLED
    if not path.is_file():
        pytest.skip(
            f"axe-core is not installed at {path} (npm install --no-save --prefix .ci-node axe-core@4.14.1, "
            "or set PDR_TEST_AXE_JS to its axe.min.js)"
        )
    return Axe(path.read_text(encoding="utf-8"))
