"""An embedded worker stays lean until it needs more: importing the app loads neither the PostgreSQL driver, nor the
S3 client, nor the search engine with its numpy; the first search, or a start on a catalog with datasets, brings
the search engine. Alembic waits for a schema to change, rdflib for the first DCAT request, httpx (with the
command line it brings: rich, click, Pygments) for the first call the worker makes to another service,
python-stdnum (with the pydoc its package imports) for the first code numbered or checked, and Jinja2 with Babel
for the portal's first page."""

from __future__ import annotations

from tests.support.imports import modules_after

LAZY = (
    "numpy",
    "psycopg",
    "minio",
    "catalog.search.service",
    "catalog.search.mirror",
    "alembic",
    "rdflib",
    "httpx",
    "pygments",
    "stdnum",
    "pydoc",
    "jinja2",
    "babel",
)


def test_importing_the_app_loads_no_driver_client_engine_or_library_it_may_not_need() -> None:
    loaded = modules_after("import catalog.app")
    assert "catalog.app" in loaded
    assert [name for name in LAZY if name in loaded] == []


def test_the_serving_program_loads_neither_typer_nor_rich() -> None:
    loaded = modules_after("import catalog.operations.serving, catalog.app, uvicorn.main")
    assert "catalog.app" in loaded
    assert [name for name in ("typer", "rich", "catalog.cli") if name in loaded] == []
