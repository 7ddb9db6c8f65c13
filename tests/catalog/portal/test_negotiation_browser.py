"""A contract negotiation in a real browser (Debian's chromium through Playwright), each party in its own session: the
consumer starts it from the dataset's page, the provider agrees, the consumer verifies, the provider finalizes; the
consumer sees it FINALIZED with its agreement in force, keeps the signed agreement, then terminates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World
from tests.support.live import serving
from tests.support.signing_in import PASSWORD, give_password


def _signed_in(browser: Any, base_url: str, name: str, target: str) -> Any:
    """A page of a new browser session, signed in as `name` on the portal's form and sent on to `target`."""
    page = browser.new_context(locale="zh-CN", accept_downloads=True).new_page()
    page.goto(f"{base_url}/signin?next={target}")
    page.get_by_label("账户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**{target}")
    return page


def _state(page: Any) -> str:
    """The state a negotiation's page shows, as the protocol names it."""
    return str(page.locator("dd.state .negotiation-state").get_attribute("data-state"))


def _open_from_the_console(provider: Any) -> None:
    """The provider finds the negotiation through its console's navigation and opens it."""
    provider.get_by_role("navigation", name="提供方工作台").get_by_role("link", name="合约协商").click()
    assert provider.locator(".negotiations-count").inner_text() == "1 项协商"
    assert provider.locator("table.negotiations td.party").inner_text() == "consumer-x"
    provider.locator("table.negotiations th a").click()


def _take(page: Any, step: str, button: str, message: str, state: str) -> None:
    """Press a step's button and read its outcome: the page's message, and the state the negotiation is in."""
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"**/negotiations/*?done={step}")
    assert page.locator("p.message").inner_text().startswith(message)
    assert _state(page) == state


def test_a_negotiation_from_the_dataset_page_to_a_terminated_agreement(
    app: FastAPI, browser: Any, client: TestClient, world: World, engine: Engine, tmp_path: Path
) -> None:
    offer = client.post(
        f"/api/v1/datasets/{world.conditional}/offers", json=offer_body(), headers=bearer(world.provider.token)
    )
    assert offer.status_code == 201, offer.text
    for name in ("consumer-x", "provider-1"):
        give_password(engine, name)
    with serving(app) as base_url:
        consumer = _signed_in(browser, base_url, "consumer-x", f"/datasets/{world.conditional}")
        assert consumer.locator("section.offers dd.terms-fee").inner_text() == "500.00 元"
        consumer.get_by_role("link", name="或按报价发起合约协商").click()
        consumer.get_by_role("button", name="按此报价协商").click()
        consumer.wait_for_url("**/console/consumer/negotiations/*?done=request")
        negotiation = consumer.url.split("?")[0]
        assert consumer.locator("p.message").inner_text().startswith("您的协商请求已发送给提供方")
        assert _state(consumer) == "REQUESTED"
        assert consumer.get_by_role("button", name="核验协议").count() == 0

        provider = _signed_in(browser, base_url, "provider-1", "/console/provider")
        _open_from_the_console(provider)
        _take(provider, "agree", "同意上述条款", "您已同意，协议已签署。", "AGREED")

        consumer.reload()
        assert consumer.locator("dd.agreement-status").inner_text() == "有效"
        _take(consumer, "verify", "核验协议", "您已核验协议", "VERIFIED")
        provider.reload()
        _take(provider, "finalize", "确认完成并生成授权", "协商已完成", "FINALIZED")

        consumer.goto(f"{base_url}/console/consumer")
        consumer.get_by_role("navigation", name="我的访问").get_by_role("link", name="合约协商").click()
        assert consumer.locator("table.negotiations td.state").inner_text() == "已完成：授权已生成"
        consumer.locator("table.negotiations th a").click()
        consumer.wait_for_url(negotiation)
        assert _state(consumer) == "FINALIZED"
        assert consumer.locator("dd.agreement-status").get_attribute("data-status") == "valid"
        with consumer.expect_download() as kept:
            consumer.get_by_role("link", name="下载签名协议（JSON）").click()
        saved = tmp_path / "agreement.json"
        kept.value.save_as(saved)
        consumer.get_by_label("终止协议的理由").fill("研究项目提前结束")
        consumer.get_by_role("button", name="终止协议").click()
        consumer.wait_for_url("**?done=agreement-terminate")
        assert consumer.locator("p.message").inner_text() == "协议已终止，据此生成的授权已撤销。"
        assert consumer.locator("dd.agreement-status").inner_text() == "已由一方终止"
        assert "研究项目提前结束" in consumer.locator("dd.agreement-ended").inner_text()
        assert consumer.get_by_role("button", name="终止协议").count() == 0
        provider.reload()
        assert provider.locator("dd.agreement-status").get_attribute("data-status") == "terminated"
    bundle = json.loads(saved.read_text(encoding="utf-8"))
    assert bundle["status"] == "valid"  # as it was when kept
    assert bundle["credential"]["credentialSubject"]["@id"] == f"urn:pdr:agreement:{negotiation.rsplit('/', 1)[-1]}"
