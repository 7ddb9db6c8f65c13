"""DCAT-AP 3: the catalog and dataset documents validate against the official SHACL shapes, page, and import back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, RDF
from sqlalchemy import Engine, update
from sqlmodel import col

from catalog.datasets.models import Dataset, DatasetDistribution
from catalog.interop import importer
from catalog.interop.dcat.vocabulary import HYDRA
from storage.db import session_scope
from tests.support.catalog import SYSTEM, published
from tests.support.data import bearer
from tests.support.registry import Provider

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SHAPES = Path(__file__).resolve().parents[3] / "standards" / "dcat-ap-3.0.0-shapes.ttl"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The DCAT-AP 3.0.0 SHACL shapes."""
    return Graph().parse(SHAPES, format="turtle")


def _conforms(data: str, fmt: str, shapes: Graph) -> Graph:
    graph = Graph().parse(data=data, format=fmt)
    conforms, _, report = validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, report
    return graph


def _rich(client: TestClient, provider: Provider) -> dict[str, Any]:
    dataset = published(client, provider)
    link = {"name": "充电桩CSV", "url": "https://data.example.gov.cn/piles.csv", "format": "CSV"}
    added = client.post(f"/api/v1/datasets/{dataset['id']}/distributions", json=link, headers=bearer(provider.token))
    assert added.status_code == 201
    return dataset


def test_catalog_and_dataset_documents_conform(client: TestClient, provider: Provider, shapes: Graph) -> None:
    dataset = _rich(client, provider)
    published(client, provider, title="无描述数据", description="", keywords=[], licence=None, spatial=None)
    turtle = client.get("/dcat/catalog.ttl")
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    graph = _conforms(turtle.text, "turtle", shapes)
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 2
    assert "天河区公共充电桩分布数据" in turtle.text  # Chinese as text
    jsonld = client.get("/dcat/catalog.jsonld")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(list(_conforms(jsonld.text, "json-ld", shapes).subjects(RDF.type, DCAT.Dataset))) == 2
    for fmt, parser in (("ttl", "turtle"), ("jsonld", "json-ld")):
        one = client.get(f"/dcat/datasets/{dataset['id']}.{fmt}")
        assert one.status_code == 200
        single = _conforms(one.text, parser, shapes)
        titles = {str(t) for t in single.objects(None, DCTERMS.title)}
        assert {"天河区公共充电桩分布数据", "Public charging piles in Tianhe", "充电桩CSV"} <= titles
        assert (None, DCAT.accessURL, None) in single


def test_only_public_datasets_appear(client: TestClient, provider: Provider) -> None:
    secret = published(client, provider, access="not_open")
    draft = client.post("/api/v1/datasets", json={"title": "草稿"}, headers=bearer(provider.token)).json()
    for dataset_id in (secret["id"], draft["id"]):
        assert client.get(f"/dcat/datasets/{dataset_id}.ttl").status_code == 404
    assert client.get(f"/dcat/datasets/{secret['id']}.xml").status_code == 404
    graph = Graph().parse(data=client.get("/dcat/catalog.ttl").text, format="turtle")
    assert list(graph.subjects(RDF.type, DCAT.Dataset)) == []


def test_catalog_pages_link_to_each_other(client: TestClient, provider: Provider, app: Any) -> None:
    app.state.settings.catalog.dcat_page_size = 2
    for i in range(5):
        published(client, provider, title=f"数据集{i}")
    seen = set()
    page: str | None = "/dcat/catalog.ttl?page=1"
    while page:
        graph = Graph().parse(data=client.get(page).text, format="turtle")
        seen |= {str(s) for s in graph.subjects(RDF.type, DCAT.Dataset)}
        following = list(graph.objects(None, HYDRA.next))
        page = str(following[0]).split("://", 1)[1].split("/", 1)[1] if following else None
        page = "/" + page if page else None
    assert len(seen) == 5
    assert client.get("/dcat/catalog.ttl?page=9").status_code == 422


def test_exported_dcat_imports_back(client: TestClient, engine: Engine, provider: Provider, tmp_path: Path) -> None:
    dataset = _rich(client, provider)
    for suffix, path in ((".ttl", "/dcat/catalog.ttl"), (".jsonld", "/dcat/catalog.jsonld")):
        exported = tmp_path / f"catalog{suffix}"
        exported.write_text(client.get(path).text, encoding="utf-8")
        report = importer.import_file(engine, exported, caller=SYSTEM, progress=False)
        assert report.errors == [] and report.updated == 1 and report.created == 0  # same name: an update
    view = client.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert view["title"] == dataset["title"] and view["keywords"] == dataset["keywords"]
    assert [d["url"] for d in view["distributions"]] == ["https://data.example.gov.cn/piles.csv"]
    assert view["temporal_start"] == "2022-01-01" and view["update_frequency"] == "monthly"
    assert json.loads(client.get("/dcat/catalog.jsonld").text)


def test_urls_stored_before_they_were_checked_keep_the_documents_valid(
    client: TestClient, engine: Engine, provider: Provider, shapes: Graph
) -> None:
    dataset = _rich(client, provider)
    with session_scope(engine) as session:  # what the old pattern let through (PostgreSQL never held NUL)
        for url in ('https://data.example.gov.cn/a"b c.csv', "https://data.example.gov.cn/\x07\x1f", "https://"):
            session.add(DatasetDistribution(dataset_id=dataset["id"], version=1, name="旧链接", url=url))
        session.execute(
            update(Dataset)
            .where(col(Dataset.id) == dataset["id"])
            .values(landing_page='https://example.org/"page', licence='http://example.org/"licence')
        )
        session.commit()
    for path in ("/dcat/catalog.ttl", f"/dcat/datasets/{dataset['id']}.ttl", f"/dcat/datasets/{dataset['id']}.jsonld"):
        response = client.get(path)
        assert response.status_code == 200, path
        graph = _conforms(response.text, "json-ld" if path.endswith(".jsonld") else "turtle", shapes)
        urls = {str(u) for u in graph.objects(None, DCAT.accessURL)}
        assert urls == {
            "https://data.example.gov.cn/piles.csv",
            "https://data.example.gov.cn/a%22b%20c.csv",
            "https://data.example.gov.cn/%07%1F",
        }
        assert {str(p) for p in graph.objects(None, DCAT.landingPage)} == {"https://example.org/%22page"}
