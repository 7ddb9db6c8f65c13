"""The exchange tests' cast and helpers: datasets with files, products, access requests (the `world` fixture is in
`tests/plugins/exchange_world.py`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from registry.models import DataProduct, Entity
from storage.db import session_scope
from tests.support.data import bearer, dataset_body, new_uscc
from tests.support.registry import Provider

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes


@dataclass
class World:
    """Everyone and everything the exchange tests act on."""

    provider: Provider
    other: Provider
    consumer: str
    consumer_id: str
    operator: str
    admin: str
    conditional: str  # dataset ids
    conditional_file: str
    not_open: str
    open_dataset: str
    open_file: str
    product: str  # registered, of provider's entity
    draft_product: str


def dataset_with_file(client: TestClient, provider: Provider, access: str, payload: bytes = PAYLOAD) -> tuple[str, str]:
    """A published dataset of the given access with one uploaded file; returns (dataset id, file id)."""
    created = client.post(
        "/api/v1/datasets",
        json=dataset_body(access=access, title=f"测试数据{uuid.uuid4().hex[:6]}"),
        headers=bearer(provider.token),
    )
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    uploaded = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=payload,
        params={"name": "data.bin"},
        headers={**bearer(provider.token), "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    done = client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
    assert done.status_code == 200, done.text
    return dataset_id, uploaded.json()["id"]


def add_product(engine: Engine, entity_id: str, status: str, name: str = "充电桩选址分析报告") -> str:
    """A data product made directly in the database, registered or draft."""
    with session_scope(engine) as session:
        product = DataProduct(
            code=f"P{uuid.uuid4().hex[:12].upper()}",
            entity_id=entity_id,
            status=status,
            name=name,
            summary="基于充电桩分布数据的选址分析。",
            form="report",
            scenario="新能源汽车充电设施规划",
        )
        session.add(product)
        session.commit()
        return product.id


def add_operator_entity(engine: Engine, serial: int = 900) -> str:
    """A verified entity of kind operator (运营机构)."""
    with session_scope(engine) as session:
        entity = Entity(
            name="广州数据运营有限公司", kind="operator", uscc=new_uscc(serial), region_code="440100", status="verified"
        )
        session.add(entity)
        session.commit()
        return entity.id


def request_body(**overrides: Any) -> dict[str, Any]:
    """A valid access request body (without its target)."""
    body: dict[str, Any] = {
        "purpose": "交通规划研究",
        "scenario": "充电桩布局优化",
        "use_category": "public_welfare",
        "requested_from": "2026-11-23",
        "requested_until": "2026-12-31",
    }
    body.update(overrides)
    return body


def granted(client: TestClient, w: World, *, quota: int | None = None, until: date | None = None) -> dict[str, Any]:
    """The consumer applies for the conditional dataset and the provider approves; returns the request."""
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=bearer(w.consumer)
    )
    assert made.status_code == 201, made.text
    decision: dict[str, Any] = {"reason": "同意"}
    if quota is not None:
        decision["download_quota"] = quota
    if until is not None:
        decision["until"] = until.isoformat()
    approved = client.post(
        f"/api/v1/access-requests/{made.json()['id']}/approve", json=decision, headers=bearer(w.provider.token)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    return dict(approved.json())


def content_url(w: World, dataset_id: str | None = None, file_id: str | None = None) -> str:
    """The download URL of a world's file (the conditional one by default)."""
    return f"/api/v1/datasets/{dataset_id or w.conditional}/files/{file_id or w.conditional_file}/content"
