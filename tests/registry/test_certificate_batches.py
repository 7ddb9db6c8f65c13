"""Certificates issued in batches: one transaction, consecutive numbers and status bits, one log batch under one
checkpoint, each certificate verifying as a single one does; all or nothing; the staff alone."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import func, select

from catalog.settings import Settings
from registry import verifier
from registry.codes import parse_certificate_number
from registry.models import Certificate, LogCheckpoint
from storage.db import session_scope
from tests.support.certificates import ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider

BATCH = "/api/v1/certificates/batch"
SCOPE = "在广州市范围内用于交通规划研究"


def _count(engine: Engine, table: type[Certificate] | type[LogCheckpoint]) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_batch_is_issued_in_one_go_and_each_certificate_verifies(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine, settings: Settings
) -> None:
    resources = [registered_resource(client, clock, provider, operator, name=f"批量资源{i}") for i in range(3)]
    # A single issue first: it takes serial 1 (and publishes the status list, which has its own log entry).
    first = {"resource_id": resources[0]["id"], "rights": ["holding"], "scope": SCOPE}
    single = ok(post(client, "/api/v1/certificates", operator, first))
    assert parse_certificate_number(single["number"])[3] == 1
    checkpoints = _count(engine, LogCheckpoint)
    body = {"certificates": [{"resource_id": r["id"], "rights": ["holding"], "scope": SCOPE} for r in resources]}
    issued = ok(post(client, BATCH, operator, body))["items"]
    assert [item["subject_id"] for item in issued] == [r["id"] for r in resources]
    serials = [parse_certificate_number(item["number"])[3] for item in issued]
    assert serials == [2, 3, 4]
    assert [item["log_index"] for item in issued] == list(range(issued[0]["log_index"], issued[0]["log_index"] + 3))
    assert _count(engine, LogCheckpoint) == checkpoints + 1  # one signed checkpoint for the batch
    with session_scope(engine) as session:
        trust = verifier.Trust.from_document(verifier.trust_document(session, settings))
    listed = client.get("/status/certificates").json()
    bits = []
    for item in issued:
        bundle = client.get(f"/api/v1/certificates/{item['number']}").json()
        bits.append(int(bundle["credential"]["credentialStatus"]["statusListIndex"]))
        report = verifier.verify_bundle(bundle, trust, at=clock.now, status_list_credential=listed)
        assert report.exit_code == verifier.EXIT_VERIFIED, report.as_dict()
    assert bits == [bits[0], bits[0] + 1, bits[0] + 2]
    # A single issue afterwards takes the next number.
    after = ok(post(client, "/api/v1/certificates", operator, first))
    assert parse_certificate_number(after["number"])[3] == 5


def test_one_refused_request_refuses_the_batch_naming_it(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    good = {"resource_id": resource["id"], "rights": ["holding"], "scope": SCOPE}
    unknown = {"resource_id": "01AAAAAAAAAAAAAAAAAAAAAAAA", "rights": ["holding"], "scope": SCOPE}
    refused = post(client, BATCH, operator, {"certificates": [good, unknown]})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("certificate 2: no such resource")
    assert [e["field"] for e in refused.json()["errors"]] == ["certificates.1.resource_id"]
    superseded = post(
        client, BATCH, operator, {"certificates": [good, {**good, "resource_id": None, "product_id": "x"}]}
    )
    assert superseded.status_code == 422
    assert superseded.json()["errors"][0]["field"] == "certificates.1.product_id"
    assert _count(engine, Certificate) == 0  # nothing of the batch was written
    assert post(client, BATCH, provider.token, {"certificates": [good]}).status_code == 403
    assert post(client, BATCH, None, {"certificates": [good]}).status_code == 401
    assert post(client, BATCH, operator, {"certificates": []}).status_code == 422
    assert post(client, BATCH, operator, {"certificates": [good] * 1001}).status_code == 422
    assert _count(engine, Certificate) == 0
    # The same subject twice in a batch gets two certificates, as two single issues would.
    assert len(ok(post(client, BATCH, operator, {"certificates": [good, good]}))["items"]) == 2
