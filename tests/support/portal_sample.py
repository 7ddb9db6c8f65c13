"""A small public catalog for the portal's tests: what anyone may see, and what nobody signed out may."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.support.catalog import published
from tests.support.data import bearer, dataset_body
from tests.support.registry import Provider

CSV = "站点,功率\nA01,60\nA02,120\n".encode() * 20


@dataclass
class Sample:
    """The datasets of the sample catalog, by what each stands for."""

    charging: dict[str, Any]
    buses: dict[str, Any]
    parking: dict[str, Any]
    draft: dict[str, Any]
    closed: dict[str, Any]
    charging_file: dict[str, Any]


def upload(client: TestClient, token: str, dataset_id: str, name: str, body: bytes = CSV) -> dict[str, Any]:
    """Upload a file to a dataset's newest version; return its record."""
    sent = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=body,
        params={"name": name},
        headers={**bearer(token), "Content-Type": "text/csv"},
    )
    assert sent.status_code == 201, sent.text
    return dict(sent.json())


def _draft(client: TestClient, provider: Provider, **fields: object) -> dict[str, Any]:
    created = client.post("/api/v1/datasets", json=dataset_body(**fields), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _publish(client: TestClient, provider: Provider, dataset_id: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
    assert done.status_code == 200, done.text
    return dict(done.json())


def make_sample(client: TestClient, provider: Provider, other: Provider) -> Sample:
    """Three public datasets (one on conditions), a draft, a closed one, and a draft second version with a file."""
    charging = _draft(client, provider)
    charging_file = upload(client, provider.token, charging["id"], "充电桩.csv")
    charging = _publish(client, provider, charging["id"])
    # A second version in the making: its file is nobody's business but the publisher's yet.
    opened = client.post(f"/api/v1/datasets/{charging['id']}/versions", headers=bearer(provider.token), json={})
    assert opened.status_code == 201, opened.text
    upload(client, provider.token, charging["id"], "unpublished-v2.csv")
    buses = _draft(
        client,
        other,
        title="广州市公交站点客流统计",
        title_en="Passenger counts at Guangzhou bus stops",
        description="全市公交站点的日均客流量，按站点与线路汇总。",
        keywords=["公交", "客流"],
        themes=["public_services"],
    )
    upload(client, other.token, buses["id"], "客流.csv")
    buses = _publish(client, other, buses["id"])
    parking = published(
        client,
        provider,
        title="越秀区停车场泊位信息",
        title_en="Parking spaces in Yuexiu",
        description="越秀区公共停车场的位置与泊位数。",
        keywords=["停车场"],
        access="conditional",
    )
    draft = _draft(client, provider, title="内部草稿：充电桩运维明细", title_en="Internal draft: charging pile upkeep")
    closed = published(
        client,
        provider,
        title="不开放的充电桩巡检记录",
        title_en="Closed charging pile inspection records",
        access="not_open",
    )
    return Sample(charging, buses, parking, draft, closed, charging_file)
