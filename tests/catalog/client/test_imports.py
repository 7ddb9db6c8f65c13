"""The client starts quickly: importing it loads neither the ORM nor the database drivers nor the server."""

from __future__ import annotations

from tests.support.imports import modules_after

SERVER_ONLY = ("sqlalchemy", "sqlmodel", "psycopg", "fastapi", "alembic", "numpy", "jieba", "registry.verifier")


def test_the_client_imports_no_server_machinery() -> None:
    loaded = modules_after("import catalog.client.cli")
    assert "catalog.client.sdk" in loaded
    assert [name for name in SERVER_ONLY if name in loaded] == []
