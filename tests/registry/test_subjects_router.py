"""Data resources and products over HTTP: validation, codes, editing drafts, and products through the workflow."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from registry.codes import is_valid_product_code, is_valid_registration_code, is_valid_resource_code
from tests.support.data import FakeClock, bearer, resource_body
from tests.support.registry import Provider


def product_body(source_resource_ids: list[str] | None, **overrides: object) -> dict[str, object]:
    """A valid data product creation body."""
    body: dict[str, object] = {
        "name": "天河区充电桩布局分析报告",
        "summary": "基于充电桩分布数据的布局优化分析。",
        "form": "report",
        "scenario": "新能源汽车充电设施规划",
        "source_resource_ids": source_resource_ids,
        "themes": ["intelligent_vehicles"],
    }
    body.update(overrides)
    return body


def _post(client: TestClient, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(path, json=body, headers=bearer(token))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _create_resource(client: TestClient, provider: Provider, **overrides: object) -> Response:
    response: Response = client.post(
        "/api/v1/resources", json=resource_body(**overrides), headers=bearer(provider.token)
    )
    return response


def _resource(client: TestClient, provider: Provider, **overrides: object) -> dict[str, Any]:
    return _post(client, "/api/v1/resources", provider.token, resource_body(**overrides))


def _fields(response: Response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def _messages(response: Response) -> str:
    return " ".join(e["message"] for e in response.json().get("errors", []))


def _register(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, subject: dict[str, str]
) -> dict[str, Any]:
    reg = _post(client, "/api/v1/registrations", provider.token, {"type": "first", "subject": subject})
    _post(client, f"/api/v1/registrations/{reg['id']}/submit", provider.token)
    _post(client, f"/api/v1/registrations/{reg['id']}/accept", operator)
    in_notice = _post(client, f"/api/v1/registrations/{reg['id']}/pass-review", operator)
    clock.set_china(date.fromisoformat(in_notice["notice_ends_on"]) + timedelta(days=1))
    return dict(client.get(f"/api/v1/registrations/{reg['id']}", headers=bearer(provider.token)).json())


# ---------------------------------------------------------------- resource validation


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"open_attribute": "half_open"}, "open_attribute"),
        ({"sharing_attribute": "everyone"}, "sharing_attribute"),
        ({"security_level": "secret"}, "security_level"),
        ({"update_cycle": "hourly"}, "update_cycle"),
        ({"themes": ["intelligent_vehicles", "weather"]}, "themes.1"),
        ({"data_items": [{"name": "pile_id", "type": "varchar"}]}, "data_items.0.type"),
    ],
    ids=["open_attribute", "sharing_attribute", "security_level", "update_cycle", "themes", "data_items"],
)
def test_unknown_enum_values_are_refused_by_field(
    client: TestClient, provider: Provider, overrides: dict[str, object], field: str
) -> None:
    response = _create_resource(client, provider, **overrides)
    assert response.status_code == 422
    assert _fields(response) == {field}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"open_attribute": "conditional", "open_conditions": None}, "open_conditions"),
        ({"open_attribute": "conditional", "open_conditions": "   "}, "open_conditions"),
        ({"sharing_attribute": "conditional", "sharing_conditions": None}, "sharing_conditions"),
    ],
    ids=["open-null", "open-blank", "sharing-null"],
)
def test_a_conditional_attribute_needs_its_conditions(
    client: TestClient, provider: Provider, overrides: dict[str, object], named: str
) -> None:
    response = _create_resource(client, provider, **overrides)
    assert response.status_code == 422
    assert named in _messages(response)


def test_time_coverage_cannot_end_before_it_starts(client: TestClient, provider: Provider) -> None:
    response = _create_resource(client, provider, time_coverage_start="2025-01-01", time_coverage_end="2024-12-31")
    assert response.status_code == 422
    assert "time_coverage_end" in _messages(response)
    same_day = _create_resource(client, provider, time_coverage_start="2025-01-01", time_coverage_end="2025-01-01")
    assert same_day.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"open_attribute": "conditional", "open_conditions": None}, "open_conditions"),
        ({"time_coverage_start": "2025-01-01", "time_coverage_end": "2024-12-31"}, "time_coverage_end"),
    ],
    ids=["open_conditions", "time_coverage_end"],
)
def test_cross_field_problems_name_their_field(
    client: TestClient, provider: Provider, overrides: dict[str, object], field: str
) -> None:
    response = _create_resource(client, provider, **overrides)
    assert response.status_code == 422
    assert _fields(response) == {field}


def test_unknown_fields_are_refused(client: TestClient, provider: Provider) -> None:
    response = _create_resource(client, provider, colour="red")
    assert response.status_code == 422
    assert _fields(response) == {"colour"}


@pytest.mark.parametrize("name", ["", "   ", None], ids=["empty", "blank", "null"])
def test_the_chinese_name_is_required(client: TestClient, provider: Provider, name: str | None) -> None:
    response = _create_resource(client, provider, name=name)
    assert response.status_code == 422
    assert _fields(response) == {"name"}
    body = resource_body()
    del body["name"]
    missing = client.post("/api/v1/resources", json=body, headers=bearer(provider.token))
    assert missing.status_code == 422
    assert _fields(missing) == {"name"}


def test_each_resource_gets_its_own_valid_code(client: TestClient, provider: Provider) -> None:
    first = _resource(client, provider)
    second = _resource(client, provider, name="天河区公共停车场数据")
    assert is_valid_resource_code(first["code"])
    assert is_valid_resource_code(second["code"])
    assert first["code"] != second["code"]
    assert first["code"].startswith("R-440100-")
    assert first["status"] == "draft"
    assert first["entity_id"] == provider.entity_id


# ---------------------------------------------------------------- products


def test_a_product_is_built_from_existing_resources(client: TestClient, provider: Provider) -> None:
    sources = [_resource(client, provider)["id"], _resource(client, provider, name="天河区道路数据")["id"]]
    product = _post(client, "/api/v1/products", provider.token, product_body(sources))
    assert is_valid_product_code(product["code"])
    assert product["code"].startswith("P-440100-")
    assert product["status"] == "draft"
    assert product["source_resource_ids"] == sources
    assert product["entity_id"] == provider.entity_id
    read = client.get(f"/api/v1/products/{product['id']}", headers=bearer(provider.token))
    assert read.status_code == 200
    assert read.json()["code"] == product["code"]


@pytest.mark.parametrize("sources", [["no-such-resource"], [], None], ids=["unknown", "empty", "null"])
def test_a_product_names_resources_that_exist(
    client: TestClient, provider: Provider, operator: str, sources: list[str] | None
) -> None:
    if sources:
        sources = [_resource(client, provider)["id"], *sources]  # one real, one unknown
    response = client.post("/api/v1/products", json=product_body(sources), headers=bearer(provider.token))
    assert response.status_code == 422, response.text
    assert {f.split(".")[0] for f in _fields(response)} == {"source_resource_ids"}


def test_a_product_is_registered_through_the_workflow(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    product = _post(client, "/api/v1/products", provider.token, product_body([_resource(client, provider)["id"]]))
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 404  # a draft is not public
    done = _register(client, clock, provider, operator, {"product_id": product["id"]})
    assert done["state"] == "registered"
    assert done["subject_type"] == "product"
    assert done["subject_id"] == product["id"]
    assert is_valid_registration_code(done["code"])
    public = client.get(f"/api/v1/products/{product['id']}")
    assert public.status_code == 200
    assert public.json()["status"] == "registered"
    assert public.json()["revision"] == 1
    versions = client.get(f"/api/v1/products/{product['id']}/versions").json()
    assert [v["revision"] for v in versions] == [1]
    assert versions[0]["snapshot"]["scenario"] == "新能源汽车充电设施规划"


def test_a_product_appears_on_the_notice_board(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    product = _post(client, "/api/v1/products", provider.token, product_body([_resource(client, provider)["id"]]))
    reg = _post(
        client, "/api/v1/registrations", provider.token, {"type": "first", "subject": {"product_id": product["id"]}}
    )
    _post(client, f"/api/v1/registrations/{reg['id']}/submit", provider.token)
    _post(client, f"/api/v1/registrations/{reg['id']}/accept", operator)
    in_notice = _post(client, f"/api/v1/registrations/{reg['id']}/pass-review", operator)
    clock.set_china(date.fromisoformat(in_notice["notice_starts_on"]))
    board = client.get("/api/v1/notices").json()
    assert [(n["id"], n["data_name"]) for n in board["items"]] == [(reg["id"], "天河区充电桩布局分析报告")]


@pytest.mark.parametrize("subject", [{}, "both"], ids=["neither", "both"])
def test_a_registration_names_exactly_one_subject(client: TestClient, provider: Provider, subject: object) -> None:
    resource = _resource(client, provider)
    product = _post(client, "/api/v1/products", provider.token, product_body([resource["id"]]))
    if subject == "both":
        subject = {"resource_id": resource["id"], "product_id": product["id"]}
    response = client.post(
        "/api/v1/registrations", json={"type": "first", "subject": subject}, headers=bearer(provider.token)
    )
    assert response.status_code == 422
    assert _fields(response) == {"subject"}
    listed = client.get("/api/v1/registrations", headers=bearer(provider.token)).json()
    assert listed["count"] == 0


# ---------------------------------------------------------------- editing


def test_a_draft_resource_is_edited_by_its_provider(client: TestClient, provider: Provider) -> None:
    resource = _resource(client, provider)
    response = client.patch(
        f"/api/v1/resources/{resource['id']}",
        json={"summary": "新增快充桩", "themes": ["intelligent_vehicles", "public_services"], "record_count": 15000},
        headers=bearer(provider.token),
    )
    assert response.status_code == 200, response.text
    edited = client.get(f"/api/v1/resources/{resource['id']}", headers=bearer(provider.token)).json()
    assert edited["summary"] == "新增快充桩"
    assert edited["themes"] == ["intelligent_vehicles", "public_services"]
    assert edited["record_count"] == 15000
    assert edited["name"] == resource["name"]  # untouched fields stay
    assert edited["code"] == resource["code"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"security_level": "secret"}, "security_level"),
        ({"themes": ["weather"]}, "themes.0"),
        ({"colour": "red"}, "colour"),
    ],
    ids=["enum", "theme", "unknown-field"],
)
def test_an_edit_is_checked_field_by_field(
    client: TestClient, provider: Provider, patch: dict[str, object], field: str
) -> None:
    resource = _resource(client, provider)
    response = client.patch(f"/api/v1/resources/{resource['id']}", json=patch, headers=bearer(provider.token))
    assert response.status_code == 422
    assert _fields(response) == {field}
    after = client.get(f"/api/v1/resources/{resource['id']}", headers=bearer(provider.token)).json()
    assert after["security_level"] == resource["security_level"]
    assert after["themes"] == resource["themes"]


@pytest.mark.parametrize(
    ("start", "patch"),
    [
        ({"open_attribute": "unconditional", "open_conditions": None}, {"open_attribute": "conditional"}),
        ({}, {"open_conditions": None}),
        ({}, {"time_coverage_end": "2023-01-01"}),
        ({}, {"name": None}),
    ],
    ids=["now-conditional", "conditions-removed", "coverage-reversed", "name-removed"],
)
def test_an_edit_must_leave_the_whole_record_valid(
    client: TestClient, provider: Provider, start: dict[str, object], patch: dict[str, object]
) -> None:
    resource = _resource(client, provider, **start)
    response = client.patch(f"/api/v1/resources/{resource['id']}", json=patch, headers=bearer(provider.token))
    assert response.status_code == 422
    after = client.get(f"/api/v1/resources/{resource['id']}", headers=bearer(provider.token)).json()
    assert {k: after[k] for k in patch} == {k: resource[k] for k in patch}


def test_a_registered_resource_is_not_edited_in_place(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = _resource(client, provider)
    assert _register(client, clock, provider, operator, {"resource_id": resource["id"]})["state"] == "registered"
    for token in (provider.token, operator):
        response = client.patch(f"/api/v1/resources/{resource['id']}", json={"summary": "改"}, headers=bearer(token))
        assert response.status_code == 409
    assert client.get(f"/api/v1/resources/{resource['id']}").json()["summary"] == resource["summary"]
