"""The notice board's objection form and the consumer console, over HTTP: what they show, and what they refuse."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, bearer, make_account
from tests.support.exchange import World, content_url, granted, request_body
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, form_token, give_password, in_notice, sign_in


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _objections(client: TestClient, operator: str, registration: str) -> list[dict[str, object]]:
    shown = client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator))
    assert shown.status_code == 200, shown.text
    return list(shown.json()["objections"] or [])


def test_a_visitor_objects_on_the_notice_board(
    client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    registration = in_notice(client, clock, provider, operator, "海珠区路灯运行数据")
    board = client.get("/notices")
    fields = {"csrf_token": form_token(board.text), "reason": "数据来源存疑", "name": "王五", "contact": "13800000000"}
    filed = client.post(f"/notices/{registration}/objections", data=fields, follow_redirects=False)
    assert filed.status_code == 303
    shown = client.get(filed.headers["location"])
    assert "您的异议已提交。" in _text(shown.text)
    state = client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator)).json()["state"]
    assert state == "objection"
    assert len(_objections(client, operator, registration)) == 1


def test_an_objection_without_its_token_changes_nothing(
    client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    registration = in_notice(client, clock, provider, operator, "海珠区路灯运行数据")
    client.get("/notices")
    for token in ({}, {"csrf_token": "a" * 64}):
        fields = {"reason": "数据来源存疑", "name": "王五", "contact": "13800000000"} | token
        refused = client.post(f"/notices/{registration}/objections", data=fields)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    state = client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator)).json()["state"]
    assert state == "notice" and _objections(client, operator, registration) == []


def test_missing_fields_and_the_hourly_limit_are_said_on_the_board(
    client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    registration = in_notice(client, clock, provider, operator, "海珠区路灯运行数据")
    token = form_token(client.get("/notices").text)
    nameless = client.post(f"/notices/{registration}/objections", data={"csrf_token": token, "reason": "存疑"})
    assert nameless.status_code == 422 and "未登录时还需填写姓名和联系方式" in _text(nameless.text)
    fields = {"csrf_token": token, "reason": "存疑", "name": "王五", "contact": "13800000000"}
    for _ in range(5):
        assert (
            client.post(f"/notices/{registration}/objections", data=fields, follow_redirects=False).status_code == 303
        )
    limited = client.post(f"/notices/{registration}/objections", data=fields)
    assert limited.status_code == 429 and "您的地址本小时内提交的异议过多" in _text(limited.text)
    assert len(_objections(client, operator, registration)) == 5


def test_the_consumer_console_shows_requests_grants_and_downloads(
    client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    grant_id = granted(client, w, quota=3)["grant_id"]
    pending = client.post(
        "/api/v1/access-requests", json=request_body(product_id=w.product), headers=bearer(w.consumer)
    )
    assert pending.status_code == 201, pending.text
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    give_password(engine, "consumer-x")
    assert sign_in(client, "consumer-x").status_code == 303
    page = client.get("/console/consumer", params={"lang": "en"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "2 requests" in text and "1 grant" in text and "1 download" in text
    grants = page.text.split('class="grants"')[1].split("</table>")[0]
    assert "active" in grants and "2 / 3" in _text(grants)
    requests = _text(page.text.split('class="requests"')[1].split("</table>")[0])
    assert "approved" in requests and "pending" in requests
    assert grant_id  # the console is read through the same grant the API gave
    client.cookies.clear()
    assert client.get("/console/consumer", follow_redirects=False).status_code == 303


def test_a_signed_in_person_objects_with_their_account(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider, operator: str, clock: FakeClock
) -> None:
    registration = in_notice(client, clock, provider, operator, "海珠区路灯运行数据")
    make_account(engine, settings.auth, Role.consumer, name="carol", password=PASSWORD)
    assert sign_in(client, "carol").status_code == 303
    board = client.get("/notices")
    assert "您将以 carol 的身份提出异议。" in _text(board.text) and 'name="contact"' not in board.text
    fields = {"csrf_token": form_token(board.text), "reason": "与本单位数据重复"}
    assert client.post(f"/notices/{registration}/objections", data=fields, follow_redirects=False).status_code == 303
    assert [o["anonymous"] for o in _objections(client, operator, registration)] == [False]


def test_the_consumer_console_pages_each_list(
    client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalog.portal.accounts.CONSOLE_ROWS", 1)
    granted(client, world)
    for _ in range(2):
        assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 200
    give_password(engine, "consumer-x")
    assert sign_in(client, "consumer-x").status_code == 303
    first = client.get("/console/consumer")
    assert "2 次下载" in _text(first.text) and first.text.count("<td>是</td>") == 1
    assert 'class="next-requests"' not in first.text and 'class="next-grants"' not in first.text
    following = re.search(r'class="next-downloads" href="([^"]+)"', first.text)
    assert following, first.text
    second = client.get(unescape(following.group(1)))
    assert second.status_code == 200 and second.text.count("<td>是</td>") == 1
    assert 'class="next-downloads"' not in second.text
    assert client.get("/console/consumer", params={"downloads": "x" * 2001}).status_code == 422
