"""A search's page as the API shows it: a fixed number of statements once its words are held and stored, whatever
the page holds."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog.search import shared_words
from tests.support.catalog import published
from tests.support.data import bearer
from tests.support.registry import Provider
from tests.support.statements import statements

# Where the registry's log stands, how far the catalog followed it and the index generation (1), the names of the
# publishers the publisher facet counts (1), the page's datasets with their publishers (1), and their links and
# files together (1), each with its version's state. SQLite's BEGIN is not counted: PostgreSQL's driver sends its
# own.
STATEMENTS_PER_SEARCH = 4


def _queries(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith("BEGIN")]


def _search(client: TestClient, token: str | None = None) -> dict[str, object]:
    headers = bearer(token) if token else {}
    found = client.get("/api/v1/datasets", params={"q": "充电桩", "facets": "publisher,theme"}, headers=headers)
    assert found.status_code == 200, found.text
    return dict(found.json())


def test_a_search_runs_a_fixed_number_of_statements(client: TestClient, app: FastAPI, provider: Provider) -> None:
    engine = app.state.engine
    for i in range(3):
        published(client, provider, title=f"充电桩数据{i}")
    _search(client)  # the first search asks the full-text index for the word
    shared_words.wait_stored()  # and hands it to the background thread to store: not counted here
    with statements(engine) as few:
        page = _search(client)
    assert page["count"] == 3
    assert len(_queries(few)) == STATEMENTS_PER_SEARCH, "\n".join(few)
    for i in range(3, 23):
        published(client, provider, title=f"充电桩数据{i}")
    _search(client)
    shared_words.wait_stored()
    with statements(engine) as full_page:
        page = _search(client)
    assert len(page["items"]) == 20  # type: ignore[arg-type]
    assert len(_queries(full_page)) == STATEMENTS_PER_SEARCH, "\n".join(full_page)


def _formats(client: TestClient, provider: Provider, fmt: str) -> dict[str, object]:
    """Link a new published dataset in `fmt`, then search by that format with the format facet."""
    dataset = published(client, provider)
    link = {"name": fmt, "url": f"https://data.example.gov.cn/piles.{fmt}", "format": fmt}
    linked = client.post(f"/api/v1/datasets/{dataset['id']}/distributions", json=link, headers=bearer(provider.token))
    assert linked.status_code == 201, linked.text
    found = client.get("/api/v1/datasets", params={"format": fmt, "facets": "format"})
    assert found.status_code == 200, found.text
    return dict(found.json())


def test_the_format_names_are_read_once_an_index_generation(
    client: TestClient, app: FastAPI, provider: Provider
) -> None:
    engine = app.state.engine
    assert _formats(client, provider, "csv")["count"] == 1
    with statements(engine) as again:
        client.get("/api/v1/datasets", params={"format": "csv", "facets": "format"})
    assert not [s for s in again if "catalog_format" in s]
    # A format another writer numbered moves the generation on, and this process reads the names again.
    page = _formats(client, provider, "xml")
    assert page["count"] == 1
    assert page["facets"] == {"format": [{"value": "XML", "count": 1, "label": None}]}
