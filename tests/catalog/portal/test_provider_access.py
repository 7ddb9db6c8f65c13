"""The provider console's exchange side over HTTP: deciding access requests, revoking grants, download figures."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.exchange import World, content_url, granted, request_body
from tests.support.signing_in import form_token, give_password, sign_in


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(client: TestClient, engine: Engine, name: str = "provider-1") -> str:
    """Sign an account in on the pages; returns the token its forms carry."""
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    return form_token(client.get("/console/provider/resources/new").text)


def asked(client: TestClient, world: World) -> str:
    """The consumer's pending request for the conditional dataset; returns its id."""
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=world.conditional), headers=bearer(world.consumer)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def request_state(client: TestClient, world: World, request_id: str) -> dict[str, object]:
    """A request as the API shows it to its provider."""
    return dict(client.get(f"/api/v1/access-requests/{request_id}", headers=bearer(world.provider.token)).json())


def test_a_provider_approves_with_terms_and_rejects_with_a_reason(
    client: TestClient, engine: Engine, world: World
) -> None:
    first, second = asked(client, world), asked(client, world)
    token = signed_in(client, engine)
    listed = page_text(client.get("/console/provider/requests").text)
    assert "2 项申请" in listed and listed.count("待处理") == 2 and "交通规划研究" in listed
    assert listed.count("consumer-x") == 2  # who asked: the consumer's account (it has no entity)
    terms = {"csrf_token": token, "until": "2026-12-15", "download_quota": "5", "reason": "同意"}
    approved = client.post(f"/console/provider/requests/{first}/approve", data=terms, follow_redirects=False)
    assert approved.status_code == 303
    assert "申请已批准。" in page_text(client.get(approved.headers["location"]).text)
    shown = request_state(client, world, first)
    assert shown["state"] == "approved" and shown["approved_quota"] == 5 and shown["approved_until"] == "2026-12-15"
    reasonless = client.post(f"/console/provider/requests/{second}/reject", data={"csrf_token": token})
    assert reasonless.status_code == 422 and "表单未保存。" in page_text(reasonless.text)
    tokenless = client.post(f"/console/provider/requests/{second}/reject", data={"reason": "用途不符"})
    assert tokenless.status_code == 403 and request_state(client, world, second)["state"] == "pending"
    late = client.post(
        f"/console/provider/requests/{second}/approve", data={"csrf_token": token, "until": "2027-06-01"}
    )
    assert late.status_code == 422 and request_state(client, world, second)["state"] == "pending"
    rejected = client.post(
        f"/console/provider/requests/{second}/reject",
        data={"csrf_token": token, "reason": "用途不符"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303 and request_state(client, world, second)["state"] == "rejected"
    after = page_text(client.get("/console/provider/requests", params={"lang": "en"}).text)
    assert "approved" in after and "rejected" in after and "用途不符" in after


def test_another_provider_cannot_decide(client: TestClient, engine: Engine, world: World) -> None:
    request_id = asked(client, world)
    token = signed_in(client, engine, "provider-2")
    assert "0 项申请" in page_text(client.get("/console/provider/requests").text)
    refused = client.post(f"/console/provider/requests/{request_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 404 and request_state(client, world, request_id)["state"] == "pending"


def test_grants_given_and_revoking_one(client: TestClient, engine: Engine, world: World) -> None:
    grant_id = granted(client, world, quota=3)["grant_id"]
    assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 200
    token = signed_in(client, engine, "provider-2")
    assert "0 项授权" in page_text(client.get("/console/provider/grants").text)
    foreign = client.post(f"/console/provider/grants/{grant_id}/revoke", data={"csrf_token": token, "reason": "x"})
    assert foreign.status_code == 404
    client.cookies.clear()
    token = signed_in(client, engine)
    listed = page_text(client.get("/console/provider/grants").text)
    assert "1 项授权" in listed and "有效" in listed and "1 / 3" in listed
    reasonless = client.post(f"/console/provider/grants/{grant_id}/revoke", data={"csrf_token": token})
    assert reasonless.status_code == 422
    revoked = client.post(
        f"/console/provider/grants/{grant_id}/revoke",
        data={"csrf_token": token, "reason": "超出约定用途"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    after = page_text(client.get(revoked.headers["location"]).text)
    assert "授权已撤销，相关下载立即停止。" in after and "已撤销" in after and "超出约定用途" in after
    assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 403


def test_download_figures_count_completed_downloads_by_month(client: TestClient, engine: Engine, world: World) -> None:
    for _ in range(2):
        assert client.get(content_url(world, world.open_dataset, world.open_file)).status_code == 200
    signed_in(client, engine)
    shown = client.get("/console/provider/downloads")
    text = page_text(shown.text)
    assert "您的数据集共完成 2 次下载" in text
    assert "26-11: 2" in text and "25-12: 0" in text and "25-11:" not in text
    assert shown.text.count('<rect class="bar"') == 12
    signed_in(client, engine, "provider-2")
    assert "您的数据集共完成 0 次下载" in page_text(client.get("/console/provider/downloads").text)
