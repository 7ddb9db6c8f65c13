"""The operator console's entities, access requests awaiting a second and dashboard, over HTTP: what the operator
sees after each form, the charts' figures, and what every other caller is refused."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, entity_body, make_account
from tests.support.exchange import World, content_url, granted, request_body
from tests.support.signing_in import PASSWORD, form_token, give_password, sign_in
from tests.support.workflow import apply, new_resource, step

BASE = "/console/operator"


def _text(html: str) -> str:
    """A page's visible text, its whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _pending_entity(client: TestClient, engine: Engine, settings: Settings, serial: int = 7) -> str:
    """An entity a new provider registered, not yet verified; returns its id."""
    token = make_account(engine, settings.auth, Role.provider, name=f"applicant-{serial}")[1]
    made = client.post("/api/v1/entities", json=entity_body(serial, name="荔湾区新设数据公司"), headers=bearer(token))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _status(client: TestClient, operator: str, entity_id: str) -> str:
    """An entity's status, as the API reports it."""
    return str(client.get(f"/api/v1/entities/{entity_id}", headers=bearer(operator)).json()["status"])


def _sign_in_operator(client: TestClient, engine: Engine) -> None:
    """Sign the operator in on the pages."""
    give_password(engine, "operator-1")
    assert sign_in(client, "operator-1").status_code == 303


def _waiting_request(client: TestClient, app: FastAPI, world: World) -> str:
    """A request for the conditional dataset that the provider approved and that waits for an operator's second."""
    app.state.settings.catalog.access_operator_second = True
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=world.conditional), headers=bearer(world.consumer)
    )
    request_id = str(made.json()["id"])
    approved = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(world.provider.token))
    assert approved.json()["state"] == "provider_approved", approved.text
    return request_id


def test_an_operator_verifies_and_suspends_entities(
    client: TestClient, engine: Engine, settings: Settings, operator: str
) -> None:
    entity = _pending_entity(client, engine, settings)
    _sign_in_operator(client, engine)
    page = client.get(f"{BASE}/entities", params={"status": "pending"})
    text = _text(page.text)
    assert "1 个主体" in text and "荔湾区新设数据公司" in text and "待核验" in text
    token = form_token(page.text)
    verified = client.post(f"{BASE}/entities/{entity}/verify", data={"csrf_token": token})
    assert "主体已核验，现可提交登记申请。" in _text(verified.text)
    assert _status(client, operator, entity) == "verified"
    # Verified from the console as through the API: the entity holds a participant credential.
    credential = client.get(f"/api/v1/entities/{entity}/participant-credential")
    assert credential.status_code == 200 and credential.json()["status"] == "valid"
    missing = client.post(f"{BASE}/entities/{entity}/suspend", data={"csrf_token": token, "reason": " "})
    assert missing.status_code == 422 and "暂停主体须说明原因。" in _text(missing.text)
    assert 'aria-describedby="suspend-' in missing.text
    assert _status(client, operator, entity) == "verified"
    suspended = client.post(f"{BASE}/entities/{entity}/suspend", data={"csrf_token": token, "reason": "营业执照已吊销"})
    text = _text(suspended.text)
    assert "主体已暂停。" in text and "营业执照已吊销" in text
    assert _status(client, operator, entity) == "suspended"
    assert client.get(f"/api/v1/entities/{entity}/participant-credential").json()["status"] == "revoked"
    english = _text(client.get(f"{BASE}/entities", params={"status": "suspended", "lang": "en"}).text)
    assert "1 entity" in english and "Suspended by the registry" in english


def test_entity_forms_without_their_token_change_nothing(
    client: TestClient, engine: Engine, settings: Settings, operator: str
) -> None:
    entity = _pending_entity(client, engine, settings)
    _sign_in_operator(client, engine)
    assert client.post(f"{BASE}/entities/{entity}/verify").status_code == 403
    assert (
        client.post(f"{BASE}/entities/{entity}/suspend", data={"reason": "x", "csrf_token": "1" * 64}).status_code
        == 403
    )
    assert _status(client, operator, entity) == "pending"


def test_an_operator_seconds_an_approval_and_the_consumer_may_download(
    client: TestClient, app: FastAPI, world: World, engine: Engine
) -> None:
    request_id = _waiting_request(client, app, world)
    _sign_in_operator(client, engine)
    page = client.get(f"{BASE}/access-requests")
    text = _text(page.text)
    assert "1 项申请待复核" in text and "交通规划研究" in text and "consumer-x" in text
    seconded = client.post(f"{BASE}/access-requests/{request_id}/approve", data={"csrf_token": form_token(page.text)})
    text = _text(seconded.text)
    assert "已复核同意：申请人已获得授权。" in text and "没有待复核的申请。" in text
    assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 200


def test_a_rejection_needs_its_reason(client: TestClient, app: FastAPI, world: World, engine: Engine) -> None:
    request_id = _waiting_request(client, app, world)
    _sign_in_operator(client, engine)
    token = form_token(client.get(f"{BASE}/access-requests").text)
    missing = client.post(f"{BASE}/access-requests/{request_id}/reject", data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 422 and "驳回申请须说明理由。" in _text(missing.text)
    no_token = client.post(f"{BASE}/access-requests/{request_id}/reject", data={"reason": "场景不符"})
    assert no_token.status_code == 403
    shown = client.get(f"/api/v1/access-requests/{request_id}", headers=bearer(world.operator)).json()
    assert shown["state"] == "provider_approved"
    done = client.post(f"{BASE}/access-requests/{request_id}/reject", data={"csrf_token": token, "reason": "场景不符"})
    assert "登记机构已驳回该申请。" in _text(done.text)
    shown = client.get(f"/api/v1/access-requests/{request_id}", headers=bearer(world.operator)).json()
    assert shown["state"] == "rejected" and shown["decision_reason"] == "场景不符"


def _figures(html: str, chart: str) -> dict[str, str]:
    """The figures table of one chart: label to value, as the page shows them."""
    table = html.split(f'id="{chart}"')[1].split("</figure>")[0]
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', table))


def test_the_dashboard_draws_the_registry_in_figures(client: TestClient, world: World, engine: Engine) -> None:
    granted(client, world)
    assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 200
    for name in ("越秀区数据一", "越秀区数据二"):
        registration = apply(client, world.provider, new_resource(client, world.provider, name=name)["id"])
        step(client, world.provider.token, registration, "submit")
    step(client, world.operator, registration, "accept")
    _sign_in_operator(client, engine)
    page = client.get(f"{BASE}/dashboard")
    assert page.status_code == 200 and page.text.count("<svg") == 4
    by_month = _figures(page.text, "registrations-by-month")
    assert len(by_month) == 12 and by_month["2026-11"] == "2" and next(iter(by_month)) == "2025-12"
    by_state = _figures(page.text, "registrations-by-state")
    assert by_state["待受理"] == "1" and by_state["已受理，形式审核中"] == "1" and by_state["已登记"] == "0"
    assert _figures(page.text, "certificates") == {"已签发": "0", "已撤销": "0"}
    assert _figures(page.text, "downloads-by-month")["2026-11"] == "1"
    assert 'class="bar"' in page.text and "近 12 个月每月提交的登记申请数" in page.text
    english = client.get(f"{BASE}/dashboard", params={"lang": "en"}).text
    assert _figures(english, "registrations-by-state")["Awaiting acceptance"] == "1"


@pytest.mark.parametrize("role", [Role.provider, Role.consumer, None])
def test_only_the_staff_see_these_pages(
    client: TestClient, app: FastAPI, world: World, engine: Engine, settings: Settings, role: Role | None
) -> None:
    request_id = _waiting_request(client, app, world)
    entity = _pending_entity(client, engine, settings)
    token = ""
    if role is not None:
        make_account(engine, settings.auth, role, name="someone", password=PASSWORD)
        assert sign_in(client, "someone").status_code == 303
        token = form_token(client.get("/account").text)
    for path in ("/entities", "/access-requests", "/dashboard", "/entities?status=pending"):
        page = client.get(BASE + path, follow_redirects=False)
        assert page.status_code == (403 if role else 303), path
        assert "荔湾区新设数据公司" not in page.text and "交通规划研究" not in page.text and "<svg" not in page.text
    for path in (f"/entities/{entity}/verify", f"/access-requests/{request_id}/approve"):
        answer = client.post(BASE + path, data={"csrf_token": token}, follow_redirects=False)
        assert answer.status_code == (403 if role else 303), path
    assert _status(client, world.operator, entity) == "pending"
    shown = client.get(f"/api/v1/access-requests/{request_id}", headers=bearer(world.operator)).json()
    assert shown["state"] == "provider_approved"
