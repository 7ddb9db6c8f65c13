"""The provider console's registrations over HTTP: applying, submitting, answering a return for supplement and
withdrawing through the registry's procedure, with states, deadlines and missing items as the person reads them."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.registry import Provider
from tests.support.signing_in import form_token, give_password, sign_in
from tests.support.workflow import apply, new_resource, step


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(client: TestClient, engine: Engine, name: str = "provider-1") -> str:
    """Sign an account in on the pages; returns the token its forms carry."""
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    return form_token(client.get("/console/provider/resources/new").text)


def state_of(client: TestClient, provider: Provider, registration_id: str) -> str:
    """A registration's state as the API reads it."""
    return str(client.get(f"/api/v1/registrations/{registration_id}", headers=bearer(provider.token)).json()["state"])


def test_a_provider_applies_and_submits_and_sees_the_deadline(
    client: TestClient, engine: Engine, provider: Provider
) -> None:
    resource = new_resource(client, provider, name="荔湾区历史建筑数据")
    token = signed_in(client, engine)
    listed = client.get("/console/provider/resources")
    assert "申请登记 荔湾区历史建筑数据" in listed.text
    fields = {"csrf_token": token, "type": "first", "resource_id": resource["id"]}
    applied = client.post("/console/provider/registrations", data=fields, follow_redirects=False)
    assert applied.status_code == 303
    registration_id = applied.headers["location"].split("/")[-1].split("?")[0]
    draft = page_text(client.get(applied.headers["location"]).text)
    assert "登记申请已创建。" in draft and "草稿（未提交）" in draft and "提交登记申请" in draft
    again = client.post("/console/provider/registrations", data=fields)
    assert again.status_code == 409 and "表单未保存。" in page_text(again.text)
    submitted = client.post(
        f"/console/provider/registrations/{registration_id}/submit", data={"csrf_token": token}, follow_redirects=False
    )
    assert submitted.status_code == 303
    shown = client.get(submitted.headers["location"])
    text = page_text(shown.text)
    deadline = client.get(f"/api/v1/registrations/{registration_id}", headers=bearer(provider.token)).json()
    assert deadline["accept_by"] == "2026-11-26"
    assert "已提交，待受理" in text and "受理期限 2026-11-26" in text and "登记机构将在三个工作日内受理或退回。" in text
    assert "提交申请" in text and "提交登记申请" not in text and "撤回申请" in text
    overview = page_text(client.get("/console/provider/registrations").text)
    assert "1 项登记申请" in overview and "应于 2026-11-26 前受理" in overview
    english = page_text(client.get(f"/console/provider/registrations/{registration_id}", params={"lang": "en"}).text)
    assert "submitted, awaiting acceptance" in english and "To be accepted by 2026-11-26" in english


def test_a_return_for_supplement_lists_what_is_missing_and_the_provider_resubmits(
    client: TestClient, engine: Engine, provider: Provider, operator: str
) -> None:
    resource = new_resource(client, provider)
    registration_id = apply(client, provider, resource["id"])
    step(client, provider.token, registration_id, "submit")
    step(client, operator, registration_id, "return", reason="材料不全", missing_items=["数据来源证明", "安全评估报告"])
    token = signed_in(client, engine)
    shown = page_text(client.get(f"/console/provider/registrations/{registration_id}").text)
    assert "退回补正" in shown and "登记机构要求补正的内容" in shown
    assert "材料不全" in shown and "数据来源证明" in shown and "安全评估报告" in shown
    assert "补正后重新提交" in shown
    listed = page_text(client.get("/console/provider/registrations", params={"state": "returned"}).text)
    assert "缺少材料： 数据来源证明；安全评估报告" in listed
    resubmitted = client.post(
        f"/console/provider/registrations/{registration_id}/submit", data={"csrf_token": token}, follow_redirects=False
    )
    assert resubmitted.status_code == 303 and state_of(client, provider, registration_id) == "submitted"
    after = page_text(client.get(resubmitted.headers["location"]).text)
    assert "已提交，待受理" in after and "数据来源证明" in after  # the history keeps what was asked for


def test_withdrawing_and_the_refusals(
    client: TestClient, engine: Engine, provider: Provider, other_provider: Provider
) -> None:
    resource = new_resource(client, provider)
    registration_id = apply(client, provider, resource["id"])
    token = signed_in(client, engine, "provider-2")
    assert client.get(f"/console/provider/registrations/{registration_id}").status_code == 404
    foreign = client.post(f"/console/provider/registrations/{registration_id}/submit", data={"csrf_token": token})
    assert foreign.status_code == 404 and state_of(client, provider, registration_id) == "draft"
    applied = client.post(
        "/console/provider/registrations", data={"csrf_token": token, "type": "first", "resource_id": resource["id"]}
    )
    assert applied.status_code == 404
    client.cookies.clear()
    token = signed_in(client, engine)
    tokenless = client.post(f"/console/provider/registrations/{registration_id}/submit", data={})
    assert tokenless.status_code == 403 and state_of(client, provider, registration_id) == "draft"
    staff_step = client.post(f"/console/provider/registrations/{registration_id}/accept", data={"csrf_token": token})
    assert staff_step.status_code == 404 and state_of(client, provider, registration_id) == "draft"
    withdrawn = client.post(
        f"/console/provider/registrations/{registration_id}/withdraw",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303 and state_of(client, provider, registration_id) == "withdrawn"
    shown = page_text(client.get(withdrawn.headers["location"]).text)
    assert "登记申请已撤回。" in shown and "已撤回" in shown and "您现在可以" not in shown
