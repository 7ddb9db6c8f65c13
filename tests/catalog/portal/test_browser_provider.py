"""The provider console in a real browser (Debian's chromium through Playwright): a provider signs in, creates a
data resource, applies for and submits its registration, creates a dataset, uploads a file with the page's script
and its progress bar, and publishes it; and an upload without script, through the plain form."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.portal.render import file_size
from tests.support.data import bearer, dataset_body
from tests.support.live import serving
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, give_password

PAYLOAD = "站点,功率\nA01,60\nA02,120\n".encode() * 4000
# Records every value the upload's percentage shows, across the reload that follows the upload.
RECORD_PROGRESS = """
window.addEventListener("DOMContentLoaded", () => {
  const shown = document.getElementById("upload-percent");
  if (!shown) return;
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("percent") || "[]");
    seen.push(shown.textContent);
    sessionStorage.setItem("percent", JSON.stringify(seen));
  }).observe(shown, {childList: true, characterData: true, subtree: true});
});
"""


def _sign_in(page: Any, base_url: str) -> None:
    """Open the console signed out, and sign in as provider-1 on the form it sends one to."""
    page.goto(f"{base_url}/console/provider")
    page.wait_for_url("**/signin?next=*")
    page.get_by_label("账户名").fill("provider-1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(f"{base_url}/console/provider")


def _register_a_resource(page: Any) -> None:
    """Create a resource, apply for its registration and submit it, reading each outcome."""
    page.get_by_role("navigation", name="提供方工作台").get_by_role("link", name="数据资源").click()
    page.get_by_role("link", name="新建数据资源").click()
    page.get_by_label("资源名称").fill("番禺区公共自行车站点数据")
    page.get_by_label("摘要", exact=True).fill("番禺区公共自行车站点的位置与车位数。")
    page.get_by_label("格式").fill("CSV, JSON")
    page.get_by_label("人工智能").check()
    page.get_by_role("button", name="创建数据资源").click()
    assert page.locator("p.message").inner_text() == "数据资源已创建为草稿。"
    page.get_by_role("button", name="申请登记 番禺区公共自行车站点数据").click()
    assert page.locator("p.message").inner_text() == "登记申请已创建。材料齐全后请提交。"
    assert page.locator("dd.state").inner_text() == "草稿（未提交）"
    page.get_by_role("button", name="提交登记申请").first.click()
    assert page.locator("dd.state").inner_text() == "已提交，待受理"
    assert page.locator("dd.accept-by").inner_text() == "2026-11-26"


def test_a_provider_registers_a_resource_and_publishes_a_dataset(
    app: FastAPI, browser: Any, client: TestClient, provider: Provider, engine: Engine
) -> None:
    give_password(engine, "provider-1")
    with serving(app) as base_url:
        context = browser.new_context(locale="zh-CN")
        context.add_init_script(RECORD_PROGRESS)
        page = context.new_page()
        _sign_in(page, base_url)
        assert page.locator("h1").inner_text() == "提供方工作台"
        assert page.locator("dd.entity-state").inner_text() == "已核验"
        _register_a_resource(page)
        page.get_by_role("link", name="登记申请", exact=True).click()
        assert page.locator(".registrations-count").inner_text() == "1 项登记申请"
        assert page.locator("table.registrations td.state").all_inner_texts() == ["已提交，待受理"]

        page.get_by_role("link", name="我的数据集").click()
        page.get_by_role("link", name="新建数据集").click()
        page.get_by_label("标题", exact=True).fill("番禺区自行车站点车位数据")
        page.get_by_label("关键词").fill("自行车，车位")
        page.get_by_role("button", name="创建数据集").click()
        assert page.locator("dd.dataset-state").inner_text() == "草稿（未公开）"
        dataset_id = page.url.split("/")[-1].split("?")[0]

        page.get_by_label("文件", exact=True).set_input_files(
            {"name": "车位.csv", "mimeType": "text/csv", "buffer": PAYLOAD}
        )
        page.get_by_role("button", name="上传", exact=True).click()
        page.wait_for_url("**?done=uploaded")
        assert "file=" not in page.url  # the script's upload, not the plain form's
        assert page.locator("p.message").inner_text() == "文件已上传。"
        seen = json.loads(page.evaluate("sessionStorage.getItem('percent') || '[]'"))
        assert seen and seen[-1] == "100%", seen
        row = page.locator("table.files tr.file")
        assert row.locator("th").inner_text() == "车位.csv"
        assert row.locator("td.size").inner_text() == file_size(len(PAYLOAD))
        assert row.locator("code.sha256").inner_text() == hashlib.sha256(PAYLOAD).hexdigest()

        page.get_by_role("button", name="发布第 1 版").click()
        assert page.locator("p.message").inner_text() == "数据集已发布，现已进入公开目录。"
        assert page.locator("dd.dataset-state").inner_text() == "已发布"
        page.locator("a.public-link").click()
        page.wait_for_url(f"{base_url}/datasets/{dataset_id}")
        assert page.locator("h1").inner_text() == "番禺区自行车站点车位数据"
        assert "车位.csv" in page.locator("table.files").inner_text()

        page.goto(f"{base_url}/console/provider/datasets/{dataset_id}?lang=en")
        assert page.locator("dd.dataset-state").inner_text() == "published in the catalog"
        assert page.get_by_role("button", name="Open version 2").is_visible()
        context.close()
    public = client.get(f"/api/v1/datasets/{dataset_id}").json()
    assert public["state"] == "published" and public["keywords"] == ["自行车", "车位"]


def test_an_upload_without_script_goes_through_the_plain_form(
    app: FastAPI, browser: Any, client: TestClient, provider: Provider, engine: Engine
) -> None:
    made = client.post("/api/v1/datasets", json=dataset_body(title="无脚本上传测试"), headers=bearer(provider.token))
    assert made.status_code == 201, made.text
    dataset_id = made.json()["id"]
    give_password(engine, "provider-1")
    with serving(app) as base_url:
        context = browser.new_context(locale="en-US", java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{base_url}/signin?next=/console/provider/datasets/{dataset_id}&lang=en")
        page.get_by_label("Account name").fill("provider-1")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/console/provider/datasets/{dataset_id}*")
        page.get_by_label("File", exact=True).set_input_files(
            {"name": "plain.csv", "mimeType": "text/csv", "buffer": PAYLOAD}
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        page.wait_for_url("**done=uploaded*")
        assert "file=" in page.url  # the plain form's upload
        assert page.locator("p.message").inner_text() == "The file was uploaded."
        assert page.locator("table.files tr.file th").inner_text() == "plain.csv"
        assert page.locator("code.sha256").inner_text() == hashlib.sha256(PAYLOAD).hexdigest()
        context.close()
