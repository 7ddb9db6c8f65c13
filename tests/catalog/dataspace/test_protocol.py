"""The Dataspace Protocol's catalog over HTTPS: every message pdr sends is valid against the protocol's JSON schemas,
and pdr accepts the specification's example messages that apply to it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.dataspace.documents import DSPACE_CONTEXT
from tests.support.data import bearer
from tests.support.dataspace import assert_valid, assert_valid_offer, example, offer_body, welfare_offer_body
from tests.support.exchange import World, dataset_with_file

REQUEST = example("catalog/example/catalog-request-message.json")


def _offer(client: TestClient, w: World, dataset_id: str, body: dict[str, Any]) -> str:
    made = client.post(f"/api/v1/datasets/{dataset_id}/offers", json=body, headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_the_version_metadata_names_the_protocol_base(client: TestClient) -> None:
    answer = client.get("/.well-known/dspace-version")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert_valid("common/protocol-version-schema.json", answer.json())
    assert answer.json()["protocolVersions"] == [{"version": "2025-1", "path": "/dsp", "binding": "HTTPS"}]
    assert_valid("common/protocol-version-schema.json", example("common/example/protocol-version.json"))


def test_the_catalog_lists_conditional_datasets_with_their_offers(client: TestClient, world: World) -> None:
    w = world
    industry = _offer(client, w, w.conditional, offer_body())
    welfare = _offer(client, w, w.conditional, welfare_offer_body())
    assert_valid("catalog/catalog-request-message-schema.json", REQUEST)
    answer = client.post("/dsp/catalog/request", json=REQUEST)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    catalog = answer.json()
    assert_valid("catalog/catalog-schema.json", catalog)
    assert catalog["@context"] == [DSPACE_CONTEXT]
    assert catalog["service"] == [
        {"@id": "http://testserver/dsp", "@type": "DataService", "endpointURL": "http://testserver/dsp"}
    ]
    # Only the conditional dataset: open data needs no contract, not_open data is nobody's to see.
    [dataset] = catalog["dataset"]
    assert dataset["@id"] == f"urn:pdr:dataset:{w.conditional}"
    assert [p["@id"] for p in dataset["hasPolicy"]] == [f"urn:pdr:offer:{industry}", f"urn:pdr:offer:{welfare}"]
    assert dataset["distribution"] == [
        {"@type": "Distribution", "format": "HttpData-PULL", "accessService": "http://testserver/dsp"}
    ]
    for offer in dataset["hasPolicy"]:
        assert_valid_offer(offer)
    assert "Link" not in answer.headers


def test_an_empty_catalog_is_still_a_valid_catalog(client: TestClient, world: World) -> None:
    catalog = client.post("/dsp/catalog/request", json={**REQUEST, "filter": None}).json()
    assert_valid("catalog/catalog-schema.json", catalog)
    assert "dataset" not in catalog


def test_the_catalog_pages_by_its_link_header(client: TestClient, world: World) -> None:
    w = world
    second, _ = dataset_with_file(client, w.provider, "conditional")
    for dataset_id in (w.conditional, second):
        _offer(client, w, dataset_id, welfare_offer_body())
    first = client.post("/dsp/catalog/request", params={"limit": 1}, json=REQUEST)
    link = first.headers["Link"]
    assert link.startswith("<http://testserver/dsp/catalog/request?limit=1&cursor=") and link.endswith('>; rel="next"')
    following = client.post(link[1 : link.index(">")].removeprefix("http://testserver"), json=REQUEST)
    assert_valid("catalog/catalog-schema.json", following.json())
    seen = [first.json()["dataset"][0]["@id"], following.json()["dataset"][0]["@id"]]
    assert sorted(seen) == sorted(f"urn:pdr:dataset:{d}" for d in (w.conditional, second))
    assert "Link" not in following.headers


def test_a_dataset_request_answers_the_dataset_with_its_offers(client: TestClient, world: World) -> None:
    w = world
    offer = _offer(client, w, w.conditional, offer_body())
    for identifier in (f"urn:pdr:dataset:{w.conditional}", w.conditional):
        answer = client.get(f"/dsp/catalog/datasets/{identifier}")
        assert answer.status_code == 200, answer.text
        dataset = answer.json()
        assert_valid("catalog/dataset-schema.json", dataset)
        assert [p["@id"] for p in dataset["hasPolicy"]] == [f"urn:pdr:offer:{offer}"]
        assert dataset["distribution"][0]["accessService"]["endpointURL"] == "http://testserver/dsp"
    # The specification's DatasetRequestMessage names the dataset as pdr's @id does.
    message = {**example("catalog/example/dataset-request-message.json"), "dataset": dataset["@id"]}
    assert_valid("catalog/dataset-request-message-schema.json", message)


@pytest.mark.parametrize(
    ("path", "method", "body", "status"),
    [
        ("/dsp/catalog/datasets/urn:pdr:dataset:nothing", "GET", None, 404),
        ("/dsp/catalog/request", "POST", {**REQUEST, "filter": [{"keyword": "x"}]}, 400),
        ("/dsp/catalog/request", "POST", {**REQUEST, "@context": ["https://example.org/other.jsonld"]}, 400),
        ("/dsp/catalog/request", "POST", {**REQUEST, "@type": "DatasetRequestMessage"}, 400),
        ("/dsp/catalog/request", "POST", {"filter": []}, 400),
    ],
)
def test_errors_are_catalog_errors(
    client: TestClient, world: World, path: str, method: str, body: object, status: int
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert_valid("catalog/catalog-error-schema.json", error)
    assert error["code"] == str(status) and error["reason"]
    assert_valid("catalog/catalog-error-schema.json", example("catalog/example/catalog-error.json"))


def test_datasets_without_offers_or_hidden_from_the_caller_are_not_served(client: TestClient, world: World) -> None:
    w = world
    bare = client.get(f"/dsp/catalog/datasets/{w.conditional}")
    assert bare.status_code == 404
    assert "carries no offer" in bare.json()["reason"][0]
    assert client.get(f"/dsp/catalog/datasets/{w.not_open}").status_code == 404
    refused = client.get(f"/dsp/catalog/datasets/{w.conditional}", headers={"Authorization": "Bearer nonsense"})
    assert refused.status_code == 401
    assert_valid("catalog/catalog-error-schema.json", refused.json())
