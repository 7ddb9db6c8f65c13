"""The operator console's certificates over HTTP: the preview of what a certificate will say, issuing it, its public
verification page, revoking it with a reason, and what other callers are refused."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import func, select

from auth.roles import Role
from catalog.settings import Settings
from registry.models import Certificate
from storage.db import session_scope
from tests.support.certificates import registered_resource
from tests.support.data import FakeClock, bearer, make_account
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, form_token, give_password, sign_in

BASE = "/console/operator"
SCOPE = "在广州市范围内用于交通规划研究"


def _text(html: str) -> str:
    """A page's visible text, its whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _certificates(engine: Engine) -> int:
    """How many certificates exist."""
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(Certificate)).one())


@pytest.fixture
def registered(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> dict[str, Any]:
    """A registered resource, and the operator signed in on the pages after the notice ended."""
    resource = registered_resource(client, clock, provider, operator, name="天河区公共充电桩分布数据")
    give_password(engine, "operator-1")
    assert sign_in(client, "operator-1").status_code == 303
    return resource


def _terms(token: str, **extra: Any) -> dict[str, Any]:
    """The issue form's fields for a holding and a processing right."""
    return {"csrf_token": token, "rights": ["holding", "processing_use"], "scope": SCOPE, **extra}


def test_the_preview_shows_what_the_certificate_will_say_and_writes_nothing(
    client: TestClient, registered: dict[str, Any], engine: Engine
) -> None:
    registration = registered["registration"]
    form = client.get(f"{BASE}/registrations/{registration['id']}/certificate")
    assert form.status_code == 200 and "签发证书" in _text(form.text)
    shown = client.post(
        f"{BASE}/registrations/{registration['id']}/certificate/preview", data=_terms(form_token(form.text))
    )
    assert shown.status_code == 200
    preview = _text(shown.text.split('class="fields certificate-preview"')[1].split("</dl>")[0])
    assert "广州市数据局测试单位1" in preview and "天河区公共充电桩分布数据" in preview
    assert registration["code"] in preview and "数据资源持有权" in preview and "数据加工使用权" in preview
    assert SCOPE in preview and "2026-12-" in preview and "2029-12-" in preview
    assert "数据产品经营权" not in preview and "公共数据登记机构" in preview
    assert _certificates(engine) == 0
    english = client.post(
        f"{BASE}/registrations/{registration['id']}/certificate/preview?lang=en", data=_terms(form_token(form.text))
    )
    assert "Data resource holding right" in _text(english.text) and "What the certificate will say" in english.text


def test_a_preview_the_rules_refuse_says_why_on_the_form(
    client: TestClient, registered: dict[str, Any], engine: Engine
) -> None:
    path = f"{BASE}/registrations/{registered['registration']['id']}/certificate/preview"
    token = form_token(client.get(f"{BASE}/registrations/{registered['registration']['id']}/certificate").text)
    product_right = client.post(path, data=_terms(token, rights=["product_operating"]))
    assert product_right.status_code == 422 and "数据产品经营权仅授予数据商的数据产品" in _text(product_right.text)
    no_scope = client.post(path, data=_terms(token, scope=" "))
    assert no_scope.status_code == 422 and "请说明权利适用的地域和用途。" in _text(no_scope.text)
    past = client.post(path, data=_terms(token, ends_on="2020-01-01"))
    assert past.status_code == 422 and "请填写尚未过去的日期" in _text(past.text)
    assert _certificates(engine) == 0


def test_an_operator_issues_then_revokes_and_the_verify_page_follows(
    client: TestClient, registered: dict[str, Any], operator: str
) -> None:
    registration = registered["registration"]
    token = form_token(client.get(f"{BASE}/registrations/{registration['id']}/certificate").text)
    issued = client.post(
        f"{BASE}/registrations/{registration['id']}/certificate", data=_terms(token), follow_redirects=False
    )
    assert issued.status_code == 303
    page = client.get(issued.headers["location"])
    number = re.search(r"/verify/([0-9A-Z]+)", page.text)
    assert number, page.text
    text = _text(page.text)
    assert "证书已签发、签名并写入透明日志。" in text and "证书状态： 有效" in text
    assert client.get(f"/verify/{number.group(1)}").text.count("有效 Valid") == 1
    listed = _text(client.get(f"{BASE}/certificates").text)
    assert "已签发 1 份证书" in listed and number.group(1) in listed
    missing = client.post(f"{BASE}/certificates/{number.group(1)}/revoke", data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 422 and "撤销证书须说明原因。" in _text(missing.text)
    assert client.get(f"/api/v1/certificates/{number.group(1)}").json()["status"] == "valid"
    revoked = client.post(
        f"{BASE}/certificates/{number.group(1)}/revoke", data={"csrf_token": token, "reason": "授权协议已终止"}
    )
    text = _text(revoked.text)
    assert "证书已撤销，核验页面现显示为已撤销。" in text and "证书状态： 已撤销" in text and "授权协议已终止" in text
    assert "已撤销 Revoked" in client.get(f"/verify/{number.group(1)}").text
    assert client.get(f"/api/v1/certificates/{number.group(1)}").json()["status"] == "revoked"


def test_issuing_without_the_token_changes_nothing(
    client: TestClient, registered: dict[str, Any], engine: Engine
) -> None:
    path = f"{BASE}/registrations/{registered['registration']['id']}/certificate"
    refused = client.post(path, data={"rights": ["holding"], "scope": SCOPE})
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert _certificates(engine) == 0


def test_revoking_without_the_token_changes_nothing(
    client: TestClient, registered: dict[str, Any], operator: str
) -> None:
    made = client.post(
        "/api/v1/certificates",
        json={"registration_id": registered["registration"]["id"], "rights": ["holding"], "scope": SCOPE},
        headers=bearer(operator),
    )
    number = made.json()["number"]
    refused = client.post(f"{BASE}/certificates/{number}/revoke", data={"reason": "测试"})
    assert refused.status_code == 403
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "valid"


@pytest.mark.parametrize("role", [Role.provider, Role.consumer, None])
def test_only_the_staff_see_or_use_the_certificate_pages(
    client: TestClient, registered: dict[str, Any], engine: Engine, settings: Settings, operator: str, role: Role | None
) -> None:
    made = client.post(
        "/api/v1/certificates",
        json={"registration_id": registered["registration"]["id"], "rights": ["holding"], "scope": SCOPE},
        headers=bearer(operator),
    )
    number = made.json()["number"]
    client.cookies.clear()
    token = ""
    if role is not None:
        make_account(engine, settings.auth, role, name="someone", password=PASSWORD)
        assert sign_in(client, "someone").status_code == 303
        token = form_token(client.get("/account").text)
    registration = registered["registration"]["id"]
    for path in (
        f"{BASE}/certificates",
        f"{BASE}/certificates/{number}",
        f"{BASE}/registrations/{registration}/certificate",
    ):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == (403 if role else 303), path
        assert SCOPE not in page.text and "广州市数据局测试单位1" not in page.text
    revoke = client.post(
        f"{BASE}/certificates/{number}/revoke", data={"csrf_token": token, "reason": "x"}, follow_redirects=False
    )
    issue = client.post(
        f"{BASE}/registrations/{registration}/certificate",
        data={"csrf_token": token, "rights": ["holding"], "scope": SCOPE},
        follow_redirects=False,
    )
    assert revoke.status_code == issue.status_code == (403 if role else 303)
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "valid"
    assert _certificates(engine) == 1
