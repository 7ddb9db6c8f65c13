"""A journey through nginx on the local topology: two pdr workers on PostgreSQL and an S3 server, behind the shipped
nginx configuration. A provider registers its entity and a resource, an operator certifies it, the provider
publishes a dataset and uploads its payload to S3, and anyone searches, downloads and verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.client.downloads import download
from catalog.client.sdk import PdrClient
from catalog.client.uploads import upload
from deploy.local_nginx import nginx_binary
from deploy.topology import Topology, topology
from tests.support.data import entity_body, resource_body
from tests.support.env import POSTGRES_URL

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def up() -> Iterator[Topology]:
    """The topology with two workers; registrations skip the public notice so the journey needs no clock."""
    if POSTGRES_URL is None:
        pytest.skip("the topology runs on PostgreSQL (PDR_TEST_DATABASE_URL)")
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    with topology(workers=2, postgres=POSTGRES_URL, settings={"PDR_NOTICE_WORKING_DAYS": "0"}) as running:
        yield running


def _client(up: Topology, token: str | None = None) -> PdrClient:
    return PdrClient(up.base_url, token, verify=str(up.certificate))


def _token(up: Topology, name: str, role: str) -> str:
    return up.pdr("accounts", "create", name, "--role", role).strip().splitlines()[-1]


def _registered_resource(provider: PdrClient, operator: PdrClient) -> str:
    """The provider's entity, verified, and a resource taken through registration; returns the resource id."""
    entity = provider.request("POST", "/api/v1/entities", json=entity_body(71)).json()
    operator.request("POST", f"/api/v1/entities/{entity['id']}/verify")
    resource = provider.request("POST", "/api/v1/resources", json=resource_body(open_attribute="unconditional"))
    body = {"type": "first", "subject": {"resource_id": resource.json()["id"]}}
    registration = provider.request("POST", "/api/v1/registrations", json=body).json()
    provider.request("POST", f"/api/v1/registrations/{registration['id']}/submit")
    for step in ("accept", "pass-review"):
        operator.request("POST", f"/api/v1/registrations/{registration['id']}/{step}")
    assert operator.registration(registration["id"]).state == "registered"
    return str(resource.json()["id"])


def test_register_certify_publish_upload_search_download(up: Topology, tmp_path: Path) -> None:
    payload = tmp_path / "客流.csv"
    payload.write_bytes(b"station,count\n" + b"tiyu-xilu,1000\n" * (MIB // 16))
    provider_token, operator_token = _token(up, "provider-t", "provider"), _token(up, "operator-t", "operator")
    with _client(up, provider_token) as provider, _client(up, operator_token) as operator, _client(up) as anyone:
        resource_id = _registered_resource(provider, operator)
        body = {"resource_id": resource_id, "rights": ["holding"], "scope": "广州市范围内交通规划研究"}
        number = operator.request("POST", "/api/v1/certificates", json=body).json()["number"]
        dataset = provider.create_dataset({"title": "体育西路站客流", "keywords": ["客流"], "resource_id": resource_id})
        stored = upload(provider, dataset.id, payload)
        provider.publish(dataset.id)
        found = [d.id for d in anyone.iter_search("客流")]
        (tmp_path / "got").mkdir()
        saved = download(anyone, anyone.files(dataset.id)[0], tmp_path / "got")
        bundle = anyone.certificate(number)
        checkpoint = anyone.request("GET", "/log/checkpoint").text
    assert dataset.id in found
    assert saved.read_bytes() == payload.read_bytes()
    assert saved.name == stored.name == "客流.csv"
    assert bundle.status == "valid"
    assert checkpoint.splitlines()[0] == f"127.0.0.1:{up.base_url.rsplit(':', 1)[1]}/log"


def test_every_worker_answers_the_same_search(up: Topology) -> None:
    with _client(up) as anyone:
        counts = {anyone.search("客流").count for _ in range(12)}
    assert len(counts) == 1
