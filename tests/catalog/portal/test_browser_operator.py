"""The operator console in a real browser (Debian's chromium through Playwright): an operator finds a submitted
registration in the queue beside an overdue one, accepts it and passes its review; once the notice is over it is
registered, and the operator issues a certificate after its preview, checks it on /verify, then revokes it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import FakeClock, bearer
from tests.support.live import serving
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, give_password
from tests.support.workflow import apply, new_resource, step

SCOPE = "在广州市范围内用于交通规划研究"


def _submitted(client: TestClient, provider: Provider, name: str) -> str:
    """A new resource's first registration, submitted by its provider; returns its id."""
    registration = apply(client, provider, new_resource(client, provider, name=name)["id"])
    step(client, provider.token, registration, "submit")
    return registration


def _sign_in(page: Any) -> None:
    """Sign in as the operator on the sign-in page the browser was sent to."""
    page.wait_for_url("**/signin?next=*")
    page.get_by_label("账户名").fill("operator-1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def _review_to_notice(page: Any, base_url: str) -> None:
    """From the queue: the overdue application is flagged; the new one is accepted and passes its review."""
    page.goto(f"{base_url}/console/operator")
    _sign_in(page)
    page.wait_for_url("**/console/operator")
    assert page.locator("h1").inner_text() == "待审队列"
    assert page.locator(".queue-count").inner_text() == "2 项登记待处理 其中 1 项已逾期"
    overdue = page.locator("table.queue tbody tr").nth(0)
    assert "白云区早期提交数据" in overdue.inner_text() and overdue.locator(".flag").inner_text() == "已逾期"
    fresh = page.locator("table.queue tbody tr").nth(1)
    assert fresh.locator(".flag").count() == 0 and fresh.locator(".state").inner_text() == "待受理"
    fresh.get_by_role("link", name="天河区充电桩数据").click()
    assert page.locator("h1").inner_text() == "审核：天河区充电桩数据"
    assert page.locator(".current-state .state").inner_text() == "待受理"
    page.get_by_role("button", name="受理申请").click()
    assert page.locator("p.message").inner_text() == "申请已受理，可开始形式审核。"
    assert page.locator(".current-state .state").inner_text() == "已受理，形式审核中"
    page.get_by_role("button", name="形式审核通过").click()
    assert page.locator("p.message").inner_text() == "形式审核已通过，已安排公示。"
    assert page.locator(".current-state .state").inner_text() == "公示中"


def _issue_after_preview(page: Any) -> str:
    """From the registered registration: the preview says what the certificate will say; issuing gives its number."""
    page.get_by_role("link", name="签发证书").click()
    assert page.get_by_label("数据资源持有权").is_checked() and page.get_by_label("数据加工使用权").is_checked()
    page.get_by_label("权利范围").fill(SCOPE)
    page.get_by_role("button", name="预览证书").click()
    preview = page.locator("dl.certificate-preview")
    assert preview.locator(".holder").inner_text() == "广州市数据局测试单位1"
    assert preview.locator(".data").inner_text().startswith("天河区充电桩数据")
    assert preview.locator("ul.rights li").all_inner_texts() == ["数据资源持有权", "数据加工使用权"]
    assert preview.locator(".scope").inner_text() == SCOPE
    page.get_by_role("button", name="签发此证书").click()
    page.wait_for_url("**/console/operator/certificates/*")
    assert page.locator("p.message").inner_text() == "证书已签发、签名并写入透明日志。"
    assert page.locator("strong.status").inner_text() == "有效"
    return str(page.url.split("/certificates/")[1].split("?")[0])


def test_an_operator_reviews_a_registration_through_to_a_certificate_and_revokes_it(
    app: FastAPI,
    browser: Any,
    client: TestClient,
    engine: Engine,
    provider: Provider,
    operator: str,
    clock: FakeClock,
) -> None:
    _submitted(client, provider, "白云区早期提交数据")
    clock.set_china(date(2026, 12, 1))
    registration = _submitted(client, provider, "天河区充电桩数据")
    give_password(engine, "operator-1")
    with serving(app) as base_url:
        page = browser.new_page(locale="zh-CN")
        _review_to_notice(page, base_url)
        ends = client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator)).json()["notice_ends_on"]
        clock.set_china(date.fromisoformat(ends) + timedelta(days=1))
        # Days later the page session has ended: the operator signs in again and comes back to the registration.
        page.reload()
        _sign_in(page)
        page.wait_for_url(lambda url: f"/console/operator/registrations/{registration}?" in url)
        assert page.locator(".current-state .state").inner_text() == "已登记"
        assert page.locator("code.registration-code").inner_text().strip() != ""

        number = _issue_after_preview(page)
        page.get_by_role("link", name="公开核验页面").click()
        page.wait_for_url(f"**/verify/{number}")
        assert page.locator(".badge").inner_text() == "有效 Valid"
        page.go_back()
        page.get_by_label("撤销原因").fill("授权协议已终止")
        page.get_by_role("button", name="撤销证书").click()
        assert page.locator("p.message").inner_text() == "证书已撤销，核验页面现显示为已撤销。"
        assert page.locator("strong.status").inner_text() == "已撤销"
        assert page.locator(".revoked-reason").inner_text() == "授权协议已终止"
        page.goto(f"{base_url}/verify/{number}")
        assert page.locator(".badge").inner_text() == "已撤销 Revoked"

        page.goto(f"{base_url}/console/operator/certificates/{number}?lang=en")
        assert page.locator("h1").inner_text() == f"Certificate {number}"
        assert page.locator("strong.status").inner_text() == "Revoked"
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base_url}/*")
        page.goto(f"{base_url}/console/operator/certificates/{number}")
        page.wait_for_url("**/signin?next=*")
        assert "授权协议已终止" not in page.content() and "天河区充电桩数据" not in page.content()
        page.close()
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "revoked"
