"""The client starts quickly: importing it loads neither the ORM nor the database drivers nor the server."""

from __future__ import annotations

import subprocess
import sys

SERVER_ONLY = ("sqlalchemy", "sqlmodel", "psycopg", "fastapi", "alembic", "numpy", "jieba", "registry.verifier")


def test_the_client_imports_no_server_machinery() -> None:
    probe = "import sys, catalog.client.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "catalog.client.sdk" in loaded
    assert [name for name in SERVER_ONLY if name in loaded] == []
