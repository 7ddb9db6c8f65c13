"""The operator console's review queue, a registration's review page and its steps, and objections, over HTTP:
what the operator sees after each form, and what every other caller is refused."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, bearer, make_account
from tests.support.registry import Provider
from tests.support.signing_in import PASSWORD, form_token, give_password, in_notice, sign_in
from tests.support.workflow import apply, new_resource, step

BASE = "/console/operator"


def _text(html: str) -> str:
    """A page's visible text, its whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _state(client: TestClient, operator: str, registration: str) -> str:
    """A registration's state, as the API reports it."""
    return str(client.get(f"/api/v1/registrations/{registration}", headers=bearer(operator)).json()["state"])


def _submitted(client: TestClient, provider: Provider, name: str) -> str:
    """A new resource's first registration, submitted by its provider; returns its id."""
    registration = apply(client, provider, new_resource(client, provider, name=name)["id"])
    step(client, provider.token, registration, "submit")
    return registration


def _sign_in_again(client: TestClient) -> None:
    """A page session lasts hours: after the clock moves days, the operator signs in again."""
    assert sign_in(client, "operator-1").status_code == 303


@pytest.fixture
def signed_in_operator(client: TestClient, engine: Engine, operator: str) -> str:
    """The operator signed in on the pages (cookie session); returns its API token for checks."""
    give_password(engine, "operator-1")
    assert sign_in(client, "operator-1").status_code == 303
    return operator


def test_the_queue_orders_by_deadline_and_flags_overdue_ones(
    client: TestClient, provider: Provider, clock: FakeClock, signed_in_operator: str
) -> None:
    late = _submitted(client, provider, "白云区早期提交数据")
    clock.set_china(date(2026, 12, 1))
    fresh = _submitted(client, provider, "白云区新近提交数据")
    _sign_in_again(client)
    page = client.get(BASE)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    text = _text(page.text)
    assert "2 项登记待处理" in text and "其中 1 项已逾期" in text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert "白云区早期提交数据" in rows[0] and "已逾期" in _text(rows[0]) and 'class="overdue"' in rows[0]
    assert "白云区新近提交数据" in rows[1] and "已逾期" not in _text(rows[1])
    assert late in rows[0] and fresh in rows[1]
    english = _text(client.get(BASE, params={"lang": "en"}).text)
    assert "2 registrations wait for the registry" in english and "1 overdue" in english
    assert "Past its deadline" in english and "Awaiting acceptance" in english


def test_the_queue_pages_when_many_wait(
    client: TestClient, provider: Provider, signed_in_operator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalog.portal.operator.queue.QUEUE_PAGE", 2)
    for number in range(3):
        _submitted(client, provider, f"分页测试数据{number}")
    first = client.get(BASE)
    assert "第 1 页，共 2 页" in _text(first.text) and first.text.count("分页测试数据") == 2
    second = client.get(BASE, params={"page": 2})
    assert "第 2 页，共 2 页" in _text(second.text) and second.text.count("分页测试数据") == 1


def test_an_operator_accepts_and_passes_review_and_sees_each_new_state(
    client: TestClient, provider: Provider, signed_in_operator: str
) -> None:
    registration = _submitted(client, provider, "越秀区道路养护数据")
    page = client.get(f"{BASE}/registrations/{registration}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "越秀区道路养护数据" in text and "当前状态： 待受理" in text and "受理期限" in text
    accepted = client.post(
        f"{BASE}/registrations/{registration}/steps/accept",
        data={"csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    shown = _text(client.get(accepted.headers["location"]).text)
    assert "申请已受理，可开始形式审核。" in shown and "当前状态： 已受理，形式审核中" in shown
    assert _state(client, signed_in_operator, registration) == "accepted"
    passed = client.post(
        f"{BASE}/registrations/{registration}/steps/pass-review", data={"csrf_token": form_token(page.text)}
    )
    text = _text(passed.text)
    assert "形式审核已通过，已安排公示。" in text and "当前状态： 公示中" in text
    assert _state(client, signed_in_operator, registration) == "notice"


def test_a_return_lists_every_missing_item(client: TestClient, provider: Provider, signed_in_operator: str) -> None:
    registration = _submitted(client, provider, "荔湾区文物保护数据")
    token = form_token(client.get(f"{BASE}/registrations/{registration}").text)
    fields = {"csrf_token": token, "missing_items": "数据来源证明\n\n  授权文件  \n"}
    returned = client.post(f"{BASE}/registrations/{registration}/steps/return", data=fields)
    text = _text(returned.text)
    assert "申请已退回补正" in text and "当前状态： 已退回补正" in text
    assert re.findall(r"<li>([^<]+)</li>", returned.text.split('class="missing-items"')[1].split("</ul>")[0]) == [
        "数据来源证明",
        "授权文件",
    ]
    seen = client.get(f"/api/v1/registrations/{registration}", headers=bearer(signed_in_operator)).json()
    assert seen["state"] == "returned" and seen["missing_items"] == ["数据来源证明", "授权文件"]


def test_a_refusal_or_a_return_without_its_reasons_is_said_on_the_page(
    client: TestClient, provider: Provider, signed_in_operator: str
) -> None:
    registration = _submitted(client, provider, "海珠区噪声监测数据")
    token = form_token(client.get(f"{BASE}/registrations/{registration}").text)
    refused = client.post(
        f"{BASE}/registrations/{registration}/steps/refuse", data={"csrf_token": token, "reason": " "}
    )
    assert refused.status_code == 422
    assert 'id="refuse-reason-error"' in refused.text and "不予通过须说明理由。" in _text(refused.text)
    assert 'aria-describedby="refuse-reason-error"' in refused.text
    empty = client.post(
        f"{BASE}/registrations/{registration}/steps/return", data={"csrf_token": token, "missing_items": "\n \n"}
    )
    assert empty.status_code == 422 and "请一次性列出全部需补正的材料" in _text(empty.text)
    assert _state(client, signed_in_operator, registration) == "submitted"
    english = client.post(
        f"{BASE}/registrations/{registration}/steps/refuse?lang=en", data={"csrf_token": token, "reason": ""}
    )
    assert english.status_code == 422 and "A refusal must state its reasons." in _text(english.text)
    done = client.post(
        f"{BASE}/registrations/{registration}/steps/refuse", data={"csrf_token": token, "reason": "材料与事实不符"}
    )
    assert "当前状态： 不予受理" in _text(done.text) and "材料与事实不符" in _text(done.text)


def test_a_step_the_state_forbids_is_said_on_the_page(
    client: TestClient, provider: Provider, signed_in_operator: str
) -> None:
    registration = _submitted(client, provider, "番禺区公交客流数据")
    token = form_token(client.get(f"{BASE}/registrations/{registration}").text)
    answer = client.post(f"{BASE}/registrations/{registration}/steps/pass-review", data={"csrf_token": token})
    assert answer.status_code == 409
    assert (
        "登记机构无法执行此操作：" in _text(answer.text)
        and "not allowed while the registration is submitted" in answer.text
    )
    assert _state(client, signed_in_operator, registration) == "submitted"


def test_forms_without_their_token_change_nothing(
    client: TestClient, provider: Provider, signed_in_operator: str
) -> None:
    registration = _submitted(client, provider, "花都区机场噪声数据")
    for token in ({}, {"csrf_token": "0" * 64}):
        refused = client.post(f"{BASE}/registrations/{registration}/steps/accept", data=token)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert _state(client, signed_in_operator, registration) == "submitted"


def test_an_objection_is_dismissed_from_the_objections_page(
    client: TestClient, provider: Provider, clock: FakeClock, signed_in_operator: str
) -> None:
    registration = in_notice(client, clock, provider, signed_in_operator, "南沙区港口吞吐数据")
    _sign_in_again(client)
    filed = client.post(
        f"/api/v1/registrations/{registration}/objections",
        json={"reason": "数据归属存在争议"},
        headers=bearer(provider.token),
    )
    assert filed.status_code == 201, filed.text
    objection = filed.json()["id"]
    page = client.get(f"{BASE}/objections")
    text = _text(page.text)
    assert "1 项异议待处理" in text and "南沙区港口吞吐数据" in text and "数据归属存在争议" in text
    path = f"{BASE}/registrations/{registration}/objections/{objection}"
    token = form_token(page.text)
    missing = client.post(path, data={"csrf_token": token, "decision": "dismiss", "back": "objections"})
    assert missing.status_code == 422 and "处理异议须说明理由。" in _text(missing.text)
    assert _state(client, signed_in_operator, registration) == "objection"
    fields = {"csrf_token": token, "decision": "dismiss", "reason": "归属清楚", "back": "objections"}
    done = client.post(path, data=fields)
    assert "异议不成立，已驳回。" in _text(done.text) and "没有待处理的异议。" in _text(done.text)
    assert _state(client, signed_in_operator, registration) == "notice"


def test_an_upheld_objection_refuses_the_registration(
    client: TestClient, provider: Provider, clock: FakeClock, signed_in_operator: str
) -> None:
    registration = in_notice(client, clock, provider, signed_in_operator, "增城区荔枝产量数据")
    _sign_in_again(client)
    filed = client.post(
        f"/api/v1/registrations/{registration}/objections", json={"reason": "重复登记"}, headers=bearer(provider.token)
    )
    objection = filed.json()["id"]
    page = client.get(f"{BASE}/registrations/{registration}")
    assert "异议处理中" in _text(page.text) and "重复登记" in _text(page.text)
    fields = {"csrf_token": form_token(page.text), "decision": "uphold", "reason": "确属重复"}
    done = client.post(f"{BASE}/registrations/{registration}/objections/{objection}", data=fields)
    text = _text(done.text)
    assert "异议成立，该登记不予通过。" in text and "当前状态： 未通过" in text and "异议成立" in text
    assert _state(client, signed_in_operator, registration) == "refused"


@pytest.mark.parametrize("role", [Role.provider, Role.consumer])
def test_other_signed_in_callers_are_refused_and_see_nothing(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider, role: Role
) -> None:
    registration = _submitted(client, provider, "从化区温泉游客数据")
    make_account(engine, settings.auth, role, name="someone", password=PASSWORD)
    assert sign_in(client, "someone").status_code == 303
    token = form_token(client.get("/account").text)
    for path in (BASE, f"{BASE}/registrations/{registration}", f"{BASE}/objections"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "从化区温泉游客数据" not in page.text and "待受理" not in page.text
    step_path = f"{BASE}/registrations/{registration}/steps/accept"
    assert client.post(step_path, data={"csrf_token": token}).status_code == 403
    assert client.get(f"/api/v1/registrations/{registration}", headers=bearer(provider.token)).json()["state"] == (
        "submitted"
    )


def test_the_provider_of_the_registration_cannot_review_it(
    client: TestClient, engine: Engine, provider: Provider, operator: str
) -> None:
    registration = _submitted(client, provider, "黄埔区企业用电数据")
    give_password(engine, "provider-1")
    assert sign_in(client, "provider-1").status_code == 303
    page = client.get(f"{BASE}/registrations/{registration}")
    assert page.status_code == 403 and "黄埔区企业用电数据" not in page.text
    token = form_token(client.get("/account").text)
    answer = client.post(f"{BASE}/registrations/{registration}/steps/accept", data={"csrf_token": token})
    assert answer.status_code == 403
    assert _state(client, operator, registration) == "submitted"


def test_a_signed_out_visitor_is_sent_to_sign_in_and_sees_nothing(
    client: TestClient, provider: Provider, operator: str
) -> None:
    registration = _submitted(client, provider, "天河区写字楼空置数据")
    for path in (BASE, f"{BASE}/registrations/{registration}", f"{BASE}/objections"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
        assert "天河区写字楼空置数据" not in client.get(path).text
    posted = client.post(f"{BASE}/registrations/{registration}/steps/accept", follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/signin?next=%2Fconsole%2Foperator"
    assert _state(client, operator, registration) == "submitted"


def test_a_deadline_after_the_queue_day_is_not_overdue(
    client: TestClient, provider: Provider, clock: FakeClock, signed_in_operator: str
) -> None:
    registration = _submitted(client, provider, "白云区当日提交数据")
    accept_by = client.get(f"/api/v1/registrations/{registration}", headers=bearer(signed_in_operator)).json()
    clock.set_china(date.fromisoformat(accept_by["accept_by"]))
    _sign_in_again(client)
    assert "已逾期" not in _text(client.get(BASE).text)
    clock.set_china(date.fromisoformat(accept_by["accept_by"]) + timedelta(days=1))
    _sign_in_again(client)
    assert "其中 1 项已逾期" in _text(client.get(BASE).text)
