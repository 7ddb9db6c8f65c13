"""A suspended entity's datasets are frozen: its provider can neither upload, publish nor change them; the registry's
staff cannot act for it either, except to withdraw a dataset from the public catalog."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.catalog import published
from tests.support.data import bearer, dataset_body
from tests.support.registry import Provider

LINK = {"name": "接口", "url": "https://data.example.gov.cn/api/piles", "format": "JSON"}


@pytest.fixture
def suspended(client: TestClient, provider: Provider, operator: str) -> dict[str, Any]:
    """A draft and a published dataset of the provider's entity, which the registry then suspends."""
    draft = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    assert draft.status_code == 201, draft.text
    public = published(client, provider)
    done = client.post(
        f"/api/v1/entities/{provider.entity_id}/suspend", json={"reason": "违规"}, headers=bearer(operator)
    )
    assert done.status_code == 200, done.text
    return {"draft": draft.json()["id"], "published": public["id"]}


def _changes(client: TestClient, token: str, draft: str, public: str) -> dict[str, httpx.Response]:
    auth = bearer(token)
    return {
        "upload": client.post(
            f"/api/v1/datasets/{draft}/files",
            content=b"a,b\n1,2\n",
            params={"name": "x.csv"},
            headers={**auth, "Content-Type": "text/csv"},
        ),
        "publish": client.post(f"/api/v1/datasets/{draft}/publish", headers=auth),
        "update draft": client.patch(f"/api/v1/datasets/{draft}", json={"title": "改名"}, headers=auth),
        "update published": client.patch(f"/api/v1/datasets/{public}", json={"title": "改名"}, headers=auth),
        "link": client.post(f"/api/v1/datasets/{draft}/distributions", json=LINK, headers=auth),
        "new version": client.post(f"/api/v1/datasets/{public}/versions", json={}, headers=auth),
    }


def test_the_provider_of_a_suspended_entity_changes_nothing(
    client: TestClient, provider: Provider, suspended: dict[str, Any]
) -> None:
    answers = _changes(client, provider.token, suspended["draft"], suspended["published"])
    answers["withdraw"] = client.post(
        f"/api/v1/datasets/{suspended['published']}/withdraw", json={"reason": "x"}, headers=bearer(provider.token)
    )
    for action, response in answers.items():
        assert response.status_code == 409, (action, response.text)
        assert "suspended" in response.json()["detail"], action
    draft = client.get(f"/api/v1/datasets/{suspended['draft']}", headers=bearer(provider.token)).json()
    assert draft["title"] == dataset_body()["title"]
    assert client.get(f"/api/v1/datasets/{suspended['draft']}/files", headers=bearer(provider.token)).json() == []


def test_staff_may_only_withdraw_a_suspended_entitys_dataset(
    client: TestClient, operator: str, suspended: dict[str, Any]
) -> None:
    for action, response in _changes(client, operator, suspended["draft"], suspended["published"]).items():
        assert response.status_code == 409, (action, response.text)
    withdrawn = client.post(
        f"/api/v1/datasets/{suspended['published']}/withdraw", json={"reason": "主体被暂停"}, headers=bearer(operator)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert client.get(f"/api/v1/datasets/{suspended['published']}").status_code == 404
