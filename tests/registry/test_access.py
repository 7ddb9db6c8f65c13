"""Who may do what in the registry, rule by rule, each with callers allowed and callers denied.

The callers: anonymous, a consumer, the provider of the entity ("provider"), the provider of another entity
("other_provider"), an operator and an admin. A denied call must leave the record exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, bearer, make_account, resource_body
from tests.support.registry import Provider

CALLERS = ("anonymous", "consumer", "provider", "other_provider", "operator", "admin")
STAFF = ("operator", "admin")


@dataclass
class World:
    """The callers' request headers and the entities they act for."""

    headers: dict[str, dict[str, str]]
    provider: Provider
    other_provider: Provider
    operator: str

    def __call__(self, who: str) -> dict[str, str]:
        """The headers to call as someone."""
        return self.headers[who]


@pytest.fixture
def world(
    engine: Engine, settings: Settings, provider: Provider, other_provider: Provider, operator: str, consumer: str
) -> World:
    """Every kind of caller, around a verified provider entity and another one."""
    admin = make_account(engine, settings.auth, Role.admin, name="admin-1")[1]
    headers = {
        "anonymous": {},
        "consumer": bearer(consumer),
        "provider": bearer(provider.token),
        "other_provider": bearer(other_provider.token),
        "operator": bearer(operator),
        "admin": bearer(admin),
    }
    return World(headers=headers, provider=provider, other_provider=other_provider, operator=operator)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _resource(client: TestClient, world: World) -> dict[str, Any]:
    return _ok(client.post("/api/v1/resources", json=resource_body(), headers=world("provider")))


def _apply(client: TestClient, world: World, resource_id: str | None = None) -> str:
    resource_id = resource_id or _resource(client, world)["id"]
    body = {"type": "first", "subject": {"resource_id": resource_id}}
    return str(_ok(client.post("/api/v1/registrations", json=body, headers=world("provider")))["id"])


def _step(client: TestClient, world: World, who: str, reg_id: str, action: str, **body: Any) -> dict[str, Any]:
    return _ok(client.post(f"/api/v1/registrations/{reg_id}/{action}", json=body or None, headers=world(who)))


def _read(client: TestClient, world: World, reg_id: str) -> dict[str, Any]:
    return _ok(client.get(f"/api/v1/registrations/{reg_id}", headers=world("operator")))


def _in_notice(client: TestClient, clock: FakeClock, world: World) -> str:
    """A registration whose public notice runs today."""
    reg_id = _apply(client, world)
    _step(client, world, "provider", reg_id, "submit")
    _step(client, world, "operator", reg_id, "accept")
    reg = _step(client, world, "operator", reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_starts_on"]))
    return reg_id


def _registered_resource(client: TestClient, clock: FakeClock, world: World) -> dict[str, Any]:
    resource = _resource(client, world)
    reg_id = _apply(client, world, resource["id"])
    _step(client, world, "provider", reg_id, "submit")
    _step(client, world, "operator", reg_id, "accept")
    reg = _step(client, world, "operator", reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_ends_on"]) + timedelta(days=1))
    assert _read(client, world, reg_id)["state"] == "registered"
    return resource


# ---------------------------------------------------------------- resources and products


def _subject_body(kind: str, world: World, client: TestClient) -> dict[str, Any]:
    if kind == "resources":
        return resource_body()
    source = _resource(client, world)["id"]
    return {
        "name": "充电桩布局分析",
        "summary": "分析报告",
        "form": "report",
        "scenario": "充电设施规划",
        "source_resource_ids": [source],
    }


@pytest.mark.parametrize("kind", ["resources", "products"])
@pytest.mark.parametrize(
    ("who", "names", "status"),
    [
        ("provider", None, 201),
        ("provider", "own", 201),
        ("provider", "other", 403),
        ("operator", "own", 201),
        ("admin", "own", 201),
        ("operator", None, 422),
        ("consumer", None, 403),
        ("consumer", "own", 403),
        ("other_provider", "own", 403),
        ("anonymous", "own", 401),
    ],
)
def test_create_a_subject(
    client: TestClient, world: World, kind: str, who: str, names: str | None, status: int
) -> None:
    body = _subject_body(kind, world, client)
    if names is not None:
        body["entity_id"] = world.provider.entity_id if names == "own" else world.other_provider.entity_id
    response = client.post(f"/api/v1/{kind}", json=body, headers=world(who))
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["entity_id"] == world.provider.entity_id
    elif status == 422:
        assert {e["field"] for e in response.json()["errors"]} == {"entity_id"}


@pytest.mark.parametrize("kind", ["resources", "products"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("provider", 200),
        ("operator", 200),
        ("admin", 200),
        ("consumer", 404),
        ("other_provider", 404),
        ("anonymous", 404),
    ],
)
def test_read_a_draft(client: TestClient, world: World, kind: str, who: str, status: int) -> None:
    created = _ok(client.post(f"/api/v1/{kind}", json=_subject_body(kind, world, client), headers=world("provider")))
    response = client.get(f"/api/v1/{kind}/{created['id']}", headers=world(who))
    assert response.status_code == status
    if status == 200:
        assert response.json()["code"] == created["code"]
    versions = client.get(f"/api/v1/{kind}/{created['id']}/versions", headers=world(who))
    assert versions.status_code == status


@pytest.mark.parametrize("who", CALLERS)
def test_read_a_registered_resource(client: TestClient, clock: FakeClock, world: World, who: str) -> None:
    resource = _registered_resource(client, clock, world)
    response = client.get(f"/api/v1/resources/{resource['id']}", headers=world(who))
    assert response.status_code == 200
    assert response.json()["status"] == "registered"
    assert client.get("/api/v1/resources/no-such-id", headers=world(who)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("provider", 200),
        ("operator", 200),
        ("admin", 200),
        ("other_provider", 404),
        ("consumer", 404),
        ("anonymous", 401),
    ],
)
def test_edit_a_draft(client: TestClient, world: World, who: str, status: int) -> None:
    resource = _resource(client, world)
    path = f"/api/v1/resources/{resource['id']}"
    response = client.patch(path, json={"summary": f"由{who}修改"}, headers=world(who))
    assert response.status_code == status
    after = _ok(client.get(path, headers=world("provider")))
    if status == 200:
        assert after["summary"] == f"由{who}修改"
    else:
        assert after == resource


# ---------------------------------------------------------------- registrations


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("provider", 201),
        ("operator", 403),
        ("admin", 403),
        ("other_provider", 404),
        ("consumer", 404),
        ("anonymous", 401),
    ],
)
def test_apply_for_a_draft(client: TestClient, world: World, who: str, status: int) -> None:
    resource = _resource(client, world)
    body = {"type": "first", "subject": {"resource_id": resource["id"]}}
    response = client.post("/api/v1/registrations", json=body, headers=world(who))
    assert response.status_code == status, response.text
    listed = _ok(client.get("/api/v1/registrations", params={"subject_id": resource["id"]}, headers=world("operator")))
    assert listed["count"] == (1 if status == 201 else 0)


@pytest.mark.parametrize(("who", "status"), [("provider", 201), ("other_provider", 403), ("operator", 403)])
def test_apply_to_cancel_a_registered_resource(
    client: TestClient, clock: FakeClock, world: World, who: str, status: int
) -> None:
    resource = _registered_resource(client, clock, world)
    body = {"type": "cancellation", "subject": {"resource_id": resource["id"]}}
    response = client.post("/api/v1/registrations", json=body, headers=world(who))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("provider", 200),
        ("operator", 200),
        ("admin", 200),
        ("other_provider", 404),
        ("consumer", 404),
        ("anonymous", 401),
    ],
)
def test_read_a_registration(client: TestClient, world: World, who: str, status: int) -> None:
    reg_id = _apply(client, world)
    response = client.get(f"/api/v1/registrations/{reg_id}", headers=world(who))
    assert response.status_code == status
    if status == 200:
        assert response.json()["id"] == reg_id
        assert [s["action"] for s in response.json()["history"]] == ["create"]


@pytest.mark.parametrize("who", ["provider", "operator"])
def test_a_read_completes_a_registration_whose_notice_is_over(
    client: TestClient, clock: FakeClock, world: World, who: str
) -> None:
    reg_id = _apply(client, world)
    _step(client, world, "provider", reg_id, "submit")
    _step(client, world, "operator", reg_id, "accept")
    reg = _step(client, world, "operator", reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_ends_on"]) + timedelta(days=1))
    done = _ok(client.get(f"/api/v1/registrations/{reg_id}", headers=world(who)))
    assert done["state"] == "registered"
    assert done["code"]


@dataclass(frozen=True)
class StepCase:
    """A workflow step: the state it starts from, who takes it, its body and the state it leads to."""

    action: str
    by: str  # "registrant" or "staff"
    allowed: str
    to_state: str
    body: tuple[tuple[str, Any], ...] = ()


STEP_CASES = (
    StepCase("submit", "registrant", "provider", "submitted"),
    StepCase("withdraw", "registrant", "provider", "withdrawn", (("reason", "撤回"),)),
    StepCase("return", "staff", "admin", "returned", (("missing_items", ["存储位置证明"]), ("reason", "材料不全"))),
    StepCase("accept", "staff", "operator", "accepted"),
    StepCase("refuse", "staff", "admin", "not_accepted", (("reason", "不属于公共数据"),)),
    StepCase("pass-review", "staff", "operator", "notice"),
    StepCase("resolve-objection", "staff", "operator", "notice"),
)
DENIED = {
    "registrant": (("operator", 403), ("admin", 403), ("other_provider", 404), ("consumer", 404), ("anonymous", 401)),
    "staff": (("provider", 403), ("other_provider", 404), ("consumer", 404), ("anonymous", 401)),
}


def _ready_for(client: TestClient, clock: FakeClock, world: World, case: StepCase) -> tuple[str, dict[str, Any]]:
    """A registration in the state the step starts from, and the step's body."""
    reg_id = _apply(client, world)
    body = dict(case.body)
    if case.action == "submit":
        return reg_id, body
    _step(client, world, "provider", reg_id, "submit")
    if case.action in ("withdraw", "return", "accept", "refuse"):
        return reg_id, body
    _step(client, world, "operator", reg_id, "accept")
    if case.action == "pass-review":
        return reg_id, body
    reg = _step(client, world, "operator", reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_starts_on"]))
    objection = _ok(
        client.post(
            f"/api/v1/registrations/{reg_id}/objections", json={"reason": "来源存疑"}, headers=world("consumer")
        )
    )
    return reg_id, {"objection_id": objection["id"], "decision": "dismiss", "reason": "来源已核实"}


@pytest.mark.parametrize(
    ("case", "denied", "status"),
    [
        pytest.param(case, who, status, id=f"{case.action}-{who}")
        for case in STEP_CASES
        for who, status in DENIED[case.by]
    ],
)
def test_workflow_step(
    client: TestClient, clock: FakeClock, world: World, case: StepCase, denied: str, status: int
) -> None:
    reg_id, body = _ready_for(client, clock, world, case)
    before = _read(client, world, reg_id)
    refused = client.post(f"/api/v1/registrations/{reg_id}/{case.action}", json=body, headers=world(denied))
    assert refused.status_code == status, refused.text
    after = _read(client, world, reg_id)
    assert (after["state"], after["version"], after["history"]) == (
        before["state"],
        before["version"],
        before["history"],
    )
    assert after["objections"] == before["objections"]

    taken = _step(client, world, case.allowed, reg_id, case.action, **body)
    assert taken["state"] == case.to_state
    assert taken["history"][-1]["action"] == case.action


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("consumer", 201),
        ("other_provider", 201),
        ("provider", 201),
        ("operator", 201),
        ("anonymous", 422),  # anyone may object, but without an account only with a name and contact
    ],
)
def test_object_during_the_notice(client: TestClient, clock: FakeClock, world: World, who: str, status: int) -> None:
    reg_id = _in_notice(client, clock, world)
    response = client.post(f"/api/v1/registrations/{reg_id}/objections", json={"reason": "异议"}, headers=world(who))
    assert response.status_code == status, response.text
    after = _read(client, world, reg_id)
    assert after["state"] == ("objection" if status == 201 else "notice")
    assert len(after["objections"]) == (1 if status == 201 else 0)


@pytest.mark.parametrize("who", CALLERS)
def test_the_notice_board_is_open_to_everyone(client: TestClient, clock: FakeClock, world: World, who: str) -> None:
    reg_id = _in_notice(client, clock, world)
    response = client.get("/api/v1/notices", headers=world(who))
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["items"]] == [reg_id]


# ---------------------------------------------------------------- the calendar


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("operator", 200),
        ("admin", 200),
        ("provider", 403),
        ("consumer", 403),
        ("other_provider", 403),
        ("anonymous", 401),
    ],
)
def test_the_calendar_is_for_the_staff(client: TestClient, world: World, who: str, status: int) -> None:
    holidays = {"holidays": ["2026-12-31"], "workdays": []}
    put = client.put("/api/v1/calendar/2026", json=holidays, headers=world(who))
    assert put.status_code == status
    read = client.get("/api/v1/calendar/2026", headers=world(who))
    assert read.status_code == status
    stored = _ok(client.get("/api/v1/calendar/2026", headers=world("operator")))
    assert stored["holidays"] == (["2026-12-31"] if status == 200 else [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"holidays": ["2027-01-01"]}, "holidays[0]"),
        ({"holidays": ["2026-12-31", "2025-12-31"]}, "holidays[1]"),
        ({"workdays": ["2025-06-01"]}, "workdays[0]"),
    ],
)
def test_a_calendar_date_outside_its_year_is_refused(
    client: TestClient, world: World, body: dict[str, list[str]], field: str
) -> None:
    response = client.put("/api/v1/calendar/2026", json=body, headers=world("operator"))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {field}
    assert _ok(client.get("/api/v1/calendar/2026", headers=world("operator"))) == {"holidays": [], "workdays": []}


def test_a_declared_holiday_moves_the_acceptance_deadline(client: TestClient, clock: FakeClock, world: World) -> None:
    # Monday 2026-11-23: three working days later is Thursday the 26th on the official calendar.
    before = _apply(client, world)
    assert _step(client, world, "provider", before, "submit")["accept_by"] == "2026-11-26"
    put = client.put("/api/v1/calendar/2026", json={"holidays": ["2026-11-24"]}, headers=world("operator"))
    assert put.status_code == 200, put.text
    after = _apply(client, world)
    assert _step(client, world, "provider", after, "submit")["accept_by"] == "2026-11-27"
    assert _read(client, world, before)["accept_by"] == "2026-11-26"  # a deadline already set stays

    # A Saturday declared a working day counts too.
    put = client.put(
        "/api/v1/calendar/2026",
        json={"holidays": ["2026-11-24", "2026-11-25"], "workdays": ["2026-11-28"]},
        headers=world("operator"),
    )
    assert put.status_code == 200, put.text
    third = _apply(client, world)
    assert _step(client, world, "provider", third, "submit")["accept_by"] == "2026-11-28"


# ---------------------------------------------------------------- listing registrations


def test_listing_registrations(client: TestClient, world: World) -> None:
    own = _apply(client, world)
    their_resource = _ok(client.post("/api/v1/resources", json=resource_body(), headers=world("other_provider")))
    body = {"type": "first", "subject": {"resource_id": their_resource["id"]}}
    theirs = _ok(client.post("/api/v1/registrations", json=body, headers=world("other_provider")))["id"]

    def ids(who: str, **params: str) -> set[str]:
        return {r["id"] for r in _ok(client.get("/api/v1/registrations", params=params, headers=world(who)))["items"]}

    assert ids("provider") == {own}
    assert ids("other_provider") == {theirs}
    assert ids("operator") == ids("admin") == {own, theirs}
    assert client.get("/api/v1/registrations", headers=world("consumer")).status_code == 403
    assert client.get("/api/v1/registrations").status_code == 401
    for who, status in (("operator", 200), ("admin", 200), ("provider", 403), ("consumer", 403), ("anonymous", 401)):
        assert client.get("/api/v1/registrations?overdue=true", headers=world(who)).status_code == status


def test_a_consumer_of_an_entity_does_not_list_its_registrations(
    client: TestClient, engine: Engine, settings: Settings, world: World
) -> None:
    reg_id = _apply(client, world)
    token = make_account(engine, settings.auth, Role.consumer, entity_id=world.provider.entity_id)[1]
    assert client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(token)).status_code == 404
    response = client.get("/api/v1/registrations", headers=bearer(token))
    assert response.status_code == 403, response.text
