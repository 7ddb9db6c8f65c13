"""Signed-in pages in a real browser (Debian's chromium through Playwright): a consumer signs in, reads their access,
makes and revokes an API token and signs out; a visitor objects to a registration on the notice board."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import FakeClock, bearer
from tests.support.exchange import World, content_url, granted, request_body
from tests.support.live import serving
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, give_password, in_notice


def _consumer_with_history(client: TestClient, world: World, engine: Engine) -> None:
    """consumer-x: a grant of 3 downloads with one used, and a pending request for a product."""
    granted(client, world, quota=3)
    pending = client.post(
        "/api/v1/access-requests", json=request_body(product_id=world.product), headers=bearer(world.consumer)
    )
    assert pending.status_code == 201, pending.text
    assert client.get(content_url(world), headers=bearer(world.consumer)).status_code == 200
    give_password(engine, "consumer-x")


def _sign_in_by_keyboard(page: Any) -> None:
    page.get_by_label("账户名").focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.type("consumer-x")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "signin-password"
    page.get_by_label("账户名").fill("consumer-x")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")


def test_a_consumer_signs_in_reads_their_access_and_manages_tokens(
    app: FastAPI, browser: Any, client: TestClient, world: World, engine: Engine
) -> None:
    _consumer_with_history(client, world, engine)
    with serving(app) as base_url:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{base_url}/console/consumer")
        page.wait_for_url("**/signin?next=*")
        assert page.locator("header .who").inner_text().strip() == "登录"
        _sign_in_by_keyboard(page)
        page.wait_for_url("**/console/consumer")
        assert page.locator("h1").inner_text() == "我的访问"
        assert page.locator("header .viewer").inner_text() == "consumer-x"
        assert page.locator(".requests-count").inner_text() == "2 项申请"
        assert page.locator(".grants-count").inner_text() == "1 项授权"
        assert page.locator(".downloads-count").inner_text() == "1 次下载"
        assert sorted(page.locator("table.requests td.state").all_inner_texts()) == ["已批准", "待处理"]
        assert page.locator("table.grants td.state").all_inner_texts() == ["有效"]
        assert page.locator("table.grants td.left").all_inner_texts() == ["2 / 3"]

        page.locator("header .viewer").click()
        page.wait_for_url("**/account")
        page.get_by_label("令牌名称").fill("laptop")
        page.get_by_label("有效天数（留空表示永不过期）").fill("30")
        page.get_by_role("button", name="创建令牌").click()
        secret = page.locator("code.new-token").inner_text()
        assert secret.startswith("pdr_")
        assert client.get("/api/v1/me", headers=bearer(secret)).json()["name"] == "consumer-x"
        page.goto(f"{base_url}/account")
        assert page.locator("code.new-token").count() == 0 and secret not in page.content()
        laptop = page.locator("tr.token", has_text="laptop")
        assert laptop.locator("td").nth(4).inner_text() == "有效"
        laptop.get_by_role("button", name="撤销 laptop").click()
        assert page.locator("p.message").inner_text() == "令牌已撤销。"
        assert page.locator("tr.token", has_text="laptop").locator("td").nth(4).inner_text() == "已撤销"
        assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401

        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url(f"{base_url}/")
        assert page.locator("header .who").inner_text().strip() == "登录"
        page.goto(f"{base_url}/console/consumer")
        page.wait_for_url("**/signin?next=*")
        assert "consumer-x" not in page.content()
        page.close()


def test_a_visitor_objects_on_the_notice_board(
    app: FastAPI, browser: Any, client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    registration = in_notice(client, clock, provider, operator, "海珠区路灯运行数据")
    with serving(app) as base_url:
        page = browser.new_page(locale="en-US", extra_http_headers={"Accept-Language": "en"})
        page.goto(f"{base_url}/notices")
        row = page.locator("table.notices tbody tr", has_text="海珠区路灯运行数据")
        row.get_by_text("Object to this registration").click()
        row.get_by_label("Reason").fill("The data were collected by another company.")
        row.get_by_label("Your name").fill("Wang Wu")
        row.get_by_label("Telephone or e-mail").fill("wang@example.cn")
        row.get_by_role("button", name="File the objection").click()
        page.wait_for_url("**/notices?objected=*")
        message = page.locator("p.message").inner_text()
        page.close()
    assert message == "Your objection was filed. The registration is held until the registry's staff decide on it."
    seen = client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator)).json()
    assert seen["state"] == "objection"
    assert [o["reason"] for o in seen["objections"]] == ["The data were collected by another company."]
