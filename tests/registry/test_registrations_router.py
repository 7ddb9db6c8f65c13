"""The registration procedure over HTTP, from entity to registered code, and its other endings."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from registry.codes import is_valid_query_code, is_valid_registration_code, is_valid_resource_code
from tests.support.data import FakeClock, bearer
from tests.support.registry import Provider
from tests.support.workflow import apply as _apply
from tests.support.workflow import new_resource as _new_resource
from tests.support.workflow import post_ok as _post
from tests.support.workflow import register
from tests.support.workflow import step as _step


def test_the_whole_path_to_a_registered_code(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str
) -> None:
    resource = _new_resource(client, provider)
    assert resource["status"] == "draft"
    assert is_valid_resource_code(resource["code"])
    reg_id = _apply(client, provider, resource["id"])

    # Submitted on Monday 2026-11-23: acceptance due three working days later.
    submitted = _step(client, provider.token, reg_id, "submit")
    assert submitted["state"] == "submitted"
    assert submitted["accept_by"] == "2026-11-26"
    assert "accept" not in submitted["allowed_actions"]  # the provider's view

    returned = _step(
        client, operator, reg_id, "return", missing_items=["数据项说明", "存储位置证明"], reason="材料不全"
    )
    assert returned["state"] == "returned"
    assert returned["missing_items"] == ["数据项说明", "存储位置证明"]

    # Resubmitted on Thursday: the clock restarts, over the weekend.
    clock.set_china(date(2026, 11, 26))
    resubmitted = _step(client, provider.token, reg_id, "submit")
    assert resubmitted["accept_by"] == "2026-12-01"
    assert resubmitted["missing_items"] == []

    assert _step(client, operator, reg_id, "accept")["state"] == "accepted"
    in_notice = _step(client, operator, reg_id, "pass-review")
    assert in_notice["state"] == "notice"
    assert in_notice["notice_starts_on"] == "2026-11-27"
    assert in_notice["notice_ends_on"] == "2026-12-10"

    board = client.get("/api/v1/notices").json()
    assert board["count"] == 0  # the notice starts tomorrow
    clock.set_china(date(2026, 11, 27))
    board = client.get("/api/v1/notices").json()
    assert board["count"] == 1
    assert set(board["items"][0]) == {
        "id",
        "registrant_name",
        "registration_type",
        "data_name",
        "summary",
        "notice_starts_on",
        "notice_ends_on",
    }
    assert board["items"][0]["data_name"] == "天河区公共充电桩分布数据"

    objection = _post(client, f"/api/v1/registrations/{reg_id}/objections", consumer, {"reason": "数据来源存疑"})
    state = client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(operator)).json()
    assert state["state"] == "objection"
    assert state["allowed_actions"] == ["resolve-objection"]

    dismissed = _step(
        client,
        operator,
        reg_id,
        "resolve-objection",
        objection_id=objection["id"],
        decision="dismiss",
        reason="来源已核实",
    )
    assert dismissed["state"] == "notice"
    assert dismissed["objections"][0]["state"] == "dismissed"

    # The last notice day passes: the next read completes the registration by itself.
    clock.set_china(date(2026, 12, 10), hour=23)
    assert client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(operator)).json()["state"] == "notice"
    clock.set_china(date(2026, 12, 11))
    done = client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(provider.token)).json()
    assert done["state"] == "registered"
    assert is_valid_registration_code(done["code"])
    assert is_valid_query_code(done["query_code"])
    assert done["valid_until"] == "2029-12-11"
    actions = [step["action"] for step in done["history"]]
    assert actions == [
        "create",
        "submit",
        "return",
        "submit",
        "accept",
        "pass-review",
        "object",
        "resolve-objection",
        "register",
    ]
    assert done["history"][2]["details"]["missing_items"] == ["数据项说明", "存储位置证明"]
    registered = client.get(f"/api/v1/resources/{resource['id']}").json()  # now public
    assert registered["status"] == "registered"
    assert registered["revision"] == 1


def test_upheld_objection_refuses(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str
) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, reg_id, "submit")
    _step(client, operator, reg_id, "accept")
    _step(client, operator, reg_id, "pass-review")
    clock.set_china(date(2026, 11, 30))
    objection = _post(client, f"/api/v1/registrations/{reg_id}/objections", consumer, {"reason": "侵犯他人权益"})
    refused = _step(
        client,
        operator,
        reg_id,
        "resolve-objection",
        objection_id=objection["id"],
        decision="uphold",
        reason="异议成立",
    )
    assert refused["state"] == "refused"
    assert refused["reason"] == "异议成立"
    assert refused["allowed_actions"] == []


def test_refusals_state_their_reasons(client: TestClient, provider: Provider, operator: str) -> None:
    not_accepted = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, not_accepted, "submit")
    missing_reason = client.post(f"/api/v1/registrations/{not_accepted}/refuse", headers=bearer(operator))
    assert missing_reason.status_code == 422
    assert missing_reason.json()["errors"][0]["field"] == "reason"
    assert _step(client, operator, not_accepted, "refuse", reason="不属于公共数据")["state"] == "not_accepted"

    refused = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, refused, "submit")
    _step(client, operator, refused, "accept")
    result = _step(client, operator, refused, "refuse", reason="形式审核未通过")
    assert result["state"] == "refused"


def test_withdrawal(client: TestClient, provider: Provider, operator: str) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, reg_id, "submit")
    withdrawn = _step(client, provider.token, reg_id, "withdraw", reason="重新整理材料")
    assert withdrawn["state"] == "withdrawn"
    again = client.post(f"/api/v1/registrations/{reg_id}/submit", headers=bearer(provider.token))
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == []


def test_step_from_the_wrong_state_names_the_allowed_steps(
    client: TestClient, provider: Provider, operator: str
) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    response = client.post(f"/api/v1/registrations/{reg_id}/accept", headers=bearer(operator))
    assert response.status_code == 409
    assert "draft" in response.json()["detail"]
    unknown = client.post(f"/api/v1/registrations/{reg_id}/approve-everything", headers=bearer(operator))
    assert unknown.status_code == 404


def test_change_makes_a_new_version_and_keeps_the_old(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = _new_resource(client, provider)
    assert (
        register(client, clock, provider, operator, _apply(client, provider, resource["id"]))["state"] == "registered"
    )
    patch = client.patch(f"/api/v1/resources/{resource['id']}", json={"summary": "x"}, headers=bearer(provider.token))
    assert patch.status_code == 409  # registered: changes go through a registration
    change = _apply(
        client, provider, resource["id"], "change", changes={"summary": "新增快充桩数据", "record_count": 15000}
    )
    done = register(client, clock, provider, operator, change)
    assert done["state"] == "registered"
    current = client.get(f"/api/v1/resources/{resource['id']}").json()
    assert current["summary"] == "新增快充桩数据"
    assert current["record_count"] == 15000
    assert current["revision"] == 2
    versions = client.get(f"/api/v1/resources/{resource['id']}/versions").json()
    assert [v["revision"] for v in versions] == [1, 2]
    assert versions[0]["snapshot"]["summary"] == resource["summary"]
    assert versions[1]["snapshot"]["summary"] == "新增快充桩数据"


def test_invalid_changes_are_refused_by_field(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = _new_resource(client, provider)
    register(client, clock, provider, operator, _apply(client, provider, resource["id"]))
    body = {
        "type": "correction",
        "subject": {"resource_id": resource["id"]},
        "changes": {"security_level": "secret", "colour": 1},
    }
    response = client.post("/api/v1/registrations", json=body, headers=bearer(provider.token))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"changes.colour"}
    body["changes"] = {"security_level": "secret"}
    response = client.post("/api/v1/registrations", json=body, headers=bearer(provider.token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "changes.security_level"


def test_cancellation(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> None:
    resource = _new_resource(client, provider)
    register(client, clock, provider, operator, _apply(client, provider, resource["id"]))
    done = register(client, clock, provider, operator, _apply(client, provider, resource["id"], "cancellation"))
    assert done["type"] == "cancellation"
    assert done["state"] == "registered"
    cancelled = client.get(f"/api/v1/resources/{resource['id']}").json()
    assert cancelled["status"] == "cancelled"
    assert [v["revision"] for v in client.get(f"/api/v1/resources/{resource['id']}/versions").json()] == [1]


def test_one_open_registration_per_subject(client: TestClient, provider: Provider) -> None:
    resource = _new_resource(client, provider)
    _apply(client, provider, resource["id"])
    second = client.post(
        "/api/v1/registrations",
        json={"type": "first", "subject": {"resource_id": resource["id"]}},
        headers=bearer(provider.token),
    )
    assert second.status_code == 409


def test_unverified_entity_cannot_submit(client: TestClient, provider: Provider, operator: str) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    suspend = client.post(
        f"/api/v1/entities/{provider.entity_id}/suspend", json={"reason": "资质过期"}, headers=bearer(operator)
    )
    assert suspend.status_code == 200
    response = client.post(f"/api/v1/registrations/{reg_id}/submit", headers=bearer(provider.token))
    assert response.status_code == 409
    assert "verified" in response.json()["detail"]


def test_no_notice_setting_registers_at_review(client: TestClient, provider: Provider, operator: str) -> None:
    client.app.state.settings.registry.notice_working_days = 0  # type: ignore[attr-defined]
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, reg_id, "submit")
    _step(client, operator, reg_id, "accept")
    done = _step(client, operator, reg_id, "pass-review")
    assert done["state"] == "registered"
    assert done["notice_starts_on"] is None
    assert done["code"]


def test_objections_only_during_the_notice(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str
) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    early = client.post(f"/api/v1/registrations/{reg_id}/objections", json={"reason": "x"}, headers=bearer(consumer))
    assert early.status_code == 404  # not in notice: not public either
    _step(client, provider.token, reg_id, "submit")
    _step(client, operator, reg_id, "accept")
    reg = _step(client, operator, reg_id, "pass-review")
    before = client.post(f"/api/v1/registrations/{reg_id}/objections", json={"reason": "x"}, headers=bearer(consumer))
    assert before.status_code == 409  # passes review on 11-23, the notice starts on 11-24
    assert before.json()["errors"][0]["field"] == "notice_ends_on"
    clock.set_china(date.fromisoformat(reg["notice_ends_on"]))
    on_last_day = client.post(
        f"/api/v1/registrations/{reg_id}/objections", json={"reason": "x"}, headers=bearer(consumer)
    )
    assert on_last_day.status_code == 201
    anonymous = client.post(f"/api/v1/registrations/{reg_id}/objections", json={"reason": "x"})
    assert anonymous.status_code == 422  # without an account, only with a name and contact


def test_overdue_applications_are_listed_for_operators(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    reg_id = _apply(client, provider, _new_resource(client, provider)["id"])
    _step(client, provider.token, reg_id, "submit")  # due 2026-11-26
    assert client.get("/api/v1/registrations?overdue=true", headers=bearer(operator)).json()["count"] == 0
    clock.set_china(date(2026, 11, 27))
    overdue = client.get("/api/v1/registrations?overdue=true", headers=bearer(operator)).json()
    assert [r["id"] for r in overdue["items"]] == [reg_id]
    assert client.get("/api/v1/registrations?overdue=true", headers=bearer(provider.token)).status_code == 403
