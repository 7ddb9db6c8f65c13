"""A consumer's journey in a real browser (Debian's chromium through Playwright): apply for conditional data from its
page, see the application on the console, and once it is approved, download the file and see the download counted."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.exchange import World
from tests.support.live import serving
from tests.support.signing_in import PASSWORD, give_password
from tests.support.waiting import settled


def _sign_in(page: Any, base_url: str, target: str) -> None:
    page.goto(f"{base_url}/signin?next={target}")
    page.get_by_label("账户名").fill("consumer-x")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{target}")


def _approve(client: TestClient, world: World, quota: int) -> None:
    [pending] = client.get("/api/v1/access-requests", headers=bearer(world.provider.token)).json()["items"]
    decision = {"reason": "同意", "download_quota": quota}
    approved = client.post(
        f"/api/v1/access-requests/{pending['id']}/approve", json=decision, headers=bearer(world.provider.token)
    )
    assert approved.status_code == 200, approved.text


def test_a_consumer_applies_is_approved_and_downloads(
    app: FastAPI, browser: Any, client: TestClient, world: World, engine: Engine, tmp_path: Path
) -> None:
    give_password(engine, "consumer-x")
    with serving(app) as base_url:
        page = browser.new_page(accept_downloads=True, locale="zh-CN")
        _sign_in(page, base_url, f"/datasets/{world.conditional}")
        page.get_by_role("link", name="申请访问").click()
        page.wait_for_url(f"**/datasets/{world.conditional}/apply")
        assert page.locator("h1").inner_text() == "申请访问"
        page.get_by_label("用途", exact=True).fill("交通规划研究")
        page.get_by_label("应用场景").fill("充电桩布局优化")
        page.get_by_label("用途类别").select_option("industry")
        page.get_by_label("截止日期（北京时间）").fill("2026-12-31")
        page.get_by_role("button", name="提交申请").click()
        page.wait_for_url("**/console/consumer?applied=*")
        assert page.locator("p.message").inner_text().startswith("您的申请已提交。")
        assert page.locator("table.requests td.state").all_inner_texts() == ["待处理"]
        assert page.locator(".grants-count").inner_text() == "0 项授权"

        _approve(client, world, quota=2)
        page.reload()
        assert page.locator("table.requests td.state").all_inner_texts() == ["已批准"]
        assert page.locator("table.grants td.state").all_inner_texts() == ["有效"]
        assert page.locator("table.grants td.left").all_inner_texts() == ["2 / 2"]

        page.locator("table.grants th a").click()
        page.wait_for_url(f"**/datasets/{world.conditional}")
        shown_digest = page.locator("code.digest").first.inner_text()
        with page.expect_download() as started:
            page.locator("table.files a.button").first.click()
        saved = tmp_path / "got"
        started.value.save_as(saved)

        def downloads_shown() -> str:
            page.goto(f"{base_url}/console/consumer")
            return page.locator(".downloads-count").inner_text()

        # The record is written once the last byte has gone, which the browser may have saved before it commits.
        assert settled(downloads_shown, "1 次下载") == "1 次下载"
        assert page.locator("table.grants td.left").all_inner_texts() == ["1 / 2"]
        page.close()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == shown_digest
