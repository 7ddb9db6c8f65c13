"""An embedded worker stays lean until it needs more: importing the app loads neither the PostgreSQL driver nor the
search engine with its numpy; the first search, or a start on a catalog with datasets, brings them."""

from __future__ import annotations

import subprocess
import sys

LAZY = ("numpy", "psycopg", "catalog.search.service", "catalog.search.mirror")


def test_importing_the_app_loads_neither_numpy_nor_the_postgresql_driver() -> None:
    probe = "import sys, catalog.app; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "catalog.app" in loaded
    assert [name for name in LAZY if name in loaded] == []
