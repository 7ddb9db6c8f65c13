"""Objections without an account: anyone may object during the notice with a name and contact, which only the
registry's staff see; an address may file only so many an hour."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from catalog.settings import Settings
from tests.support.data import FakeClock, bearer
from tests.support.registry import Provider
from tests.support.workflow import apply, new_resource, step

OBJECTOR = {"reason": "该数据包含本人个人信息", "name": "王小明", "contact": "wang@example.cn"}


def _in_notice(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> str:
    """A registration whose public notice runs today."""
    reg_id = apply(client, provider, new_resource(client, provider)["id"])
    step(client, provider.token, reg_id, "submit")
    step(client, operator, reg_id, "accept")
    reg = step(client, operator, reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_starts_on"]))
    return reg_id


def _object(client: TestClient, reg_id: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = bearer(token) if token else {}
    return client.post(f"/api/v1/registrations/{reg_id}/objections", json=body, headers=headers)


def _objections(client: TestClient, reg_id: str, token: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(token)).json()["objections"])


def test_anyone_may_object_with_a_name_and_contact(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    reg_id = _in_notice(client, clock, provider, operator)
    filed = _object(client, reg_id, OBJECTOR)
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert (receipt["anonymous"], receipt["objector_name"], receipt["objector_contact"]) == (
        True,
        "王小明",
        "wang@example.cn",
    )
    assert client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(operator)).json()["state"] == "objection"
    [seen_by_staff] = _objections(client, reg_id, operator)
    assert (seen_by_staff["objector_name"], seen_by_staff["objector_contact"]) == ("王小明", "wang@example.cn")
    # Neither the provider nor the public sees an objection filed without an account, nor who filed it.
    assert _objections(client, reg_id, provider.token) == []
    dismissed = step(
        client, operator, reg_id, "resolve-objection", objection_id=receipt["id"], decision="dismiss", reason="已核实"
    )
    assert dismissed["state"] == "notice"


def test_an_objector_without_an_account_must_say_who_they_are(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    reg_id = _in_notice(client, clock, provider, operator)
    for missing in ("name", "contact"):
        body = {k: v for k, v in OBJECTOR.items() if k != missing}
        refused = _object(client, reg_id, body)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [missing]
    assert _objections(client, reg_id, operator) == []


def test_who_filed_an_objection_is_shown_to_staff_only(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str
) -> None:
    reg_id = _in_notice(client, clock, provider, operator)
    assert _object(client, reg_id, {"reason": "来源存疑"}, consumer).status_code == 201
    [for_provider] = _objections(client, reg_id, provider.token)
    assert (for_provider["anonymous"], for_provider["filed_by"], for_provider["reason"]) == (False, None, "来源存疑")
    [for_staff] = _objections(client, reg_id, operator)
    assert for_staff["filed_by"] is not None


def test_anonymous_objections_are_limited_per_address_and_hour(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str, settings: Settings
) -> None:
    settings.registry.anonymous_objections_per_hour = 2
    reg_id = _in_notice(client, clock, provider, operator)
    assert [_object(client, reg_id, OBJECTOR).status_code for _ in range(2)] == [201, 201]
    refused = _object(client, reg_id, OBJECTOR)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert _object(client, reg_id, {"reason": "签名用户不受此限"}, consumer).status_code == 201
    clock.now += timedelta(minutes=61)
    assert _object(client, reg_id, OBJECTOR).status_code == 201
    assert len(_objections(client, reg_id, operator)) == 4
