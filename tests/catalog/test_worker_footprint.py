"""An embedded worker stays lean until it needs more: importing the app loads neither the PostgreSQL driver, nor the
S3 client, nor the search engine with its numpy; the first search, or a start on a catalog with datasets, brings
the search engine."""

from __future__ import annotations

from tests.support.imports import modules_after

LAZY = ("numpy", "psycopg", "minio", "catalog.search.service", "catalog.search.mirror")


def test_importing_the_app_loads_no_driver_client_or_search_engine_it_may_not_need() -> None:
    loaded = modules_after("import catalog.app")
    assert "catalog.app" in loaded
    assert [name for name in LAZY if name in loaded] == []
