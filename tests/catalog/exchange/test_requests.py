"""Access requests: the rules of applying, the operator's second, and the grant's public log entry."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from registry.models import LogEntry
from storage.db import session_scope
from tests.support.data import bearer
from tests.support.exchange import (
    World,
    content_url,
    granted,
    request_body,
)


def test_request_rules(client: TestClient, world: World) -> None:
    w = world
    post = "/api/v1/access-requests"
    two = client.post(
        post, json=request_body(dataset_id=w.conditional, scenario=["a", "b"]), headers=bearer(w.consumer)
    )
    assert two.status_code == 422
    backwards = request_body(dataset_id=w.conditional, requested_from="2026-12-31", requested_until="2026-12-01")
    assert client.post(post, json=backwards, headers=bearer(w.consumer)).status_code == 422
    assert (
        client.post(post, json=request_body(dataset_id=w.open_dataset), headers=bearer(w.consumer)).status_code == 409
    )
    assert client.post(post, json=request_body(dataset_id=w.not_open), headers=bearer(w.consumer)).status_code == 404
    draft = client.post(post, json=request_body(product_id=w.draft_product), headers=bearer(w.consumer))
    assert draft.status_code == 404
    product = client.post(post, json=request_body(product_id=w.product), headers=bearer(w.consumer))
    assert product.status_code == 201, product.text
    longer = client.post(
        f"/api/v1/access-requests/{product.json()['id']}/approve",
        json={"until": "2027-06-30"},
        headers=bearer(w.provider.token),
    )
    assert longer.status_code == 422
    rejected = client.post(
        f"/api/v1/access-requests/{product.json()['id']}/reject",
        json={"reason": "场景不符"},
        headers=bearer(w.provider.token),
    )
    assert rejected.json()["state"] == "rejected"


def test_operator_second(client: TestClient, app: FastAPI, world: World, engine: Engine) -> None:
    w = world
    app.state.settings.catalog.access_operator_second = True
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=bearer(w.consumer)
    )
    request_id = made.json()["id"]
    first = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.provider.token))
    assert first.json()["state"] == "provider_approved"
    assert first.json()["grant_id"] is None
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403
    assert (
        client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.provider.token)).status_code
        == 409
    )
    second = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.operator))
    assert second.json()["state"] == "approved"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    with session_scope(engine) as session:
        kinds = [e.kind for e in session.exec(select(LogEntry).where(col(LogEntry.kind).like("access.%")))]
    assert kinds == ["access.grant"]


def test_grant_is_logged_without_personal_data(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    approved = granted(client, w)
    with session_scope(engine) as session:
        entry = session.exec(select(LogEntry).where(LogEntry.kind == "access.grant")).one()
    data = entry.data.decode()
    assert approved["grant_id"] in data and w.conditional in data
    assert w.consumer_id not in data and "交通规划研究" not in data
