"""The registry's input shapes: integers bounded to their columns, years a date can hold, subject ids never empty;
each too-large or empty value is a 422 naming its field, alike on both engines."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth.caller import Caller
from auth.roles import Role
from registry import holidays
from registry.schemas import CalendarYear
from storage.exceptions import InvalidInput
from storage.inputs import INT64_MAX
from tests.support.certificates import registered_resource
from tests.support.data import FakeClock, bearer, entity_body, resource_body
from tests.support.registry import Provider


def _names_field(response: object, field: str) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("record_count", 10**30), ("data_volume_bytes", 2**63), ("record_count", -1), ("data_volume_bytes", 10**400)],
)
def test_resource_integers_past_their_bigint_columns_are_422(
    client: TestClient, provider: Provider, field: str, value: int
) -> None:
    created = client.post("/api/v1/resources", json=resource_body(**{field: value}), headers=bearer(provider.token))
    _names_field(created, field)
    draft = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token)).json()
    patched = client.patch(f"/api/v1/resources/{draft['id']}", json={field: value}, headers=bearer(provider.token))
    _names_field(patched, field)


def test_the_largest_bigint_is_stored_and_read_back(client: TestClient, provider: Provider) -> None:
    body = resource_body(record_count=INT64_MAX, data_volume_bytes=INT64_MAX)
    created = client.post("/api/v1/resources", json=body, headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    shown = client.get(f"/api/v1/resources/{created.json()['id']}", headers=bearer(provider.token)).json()
    assert shown["record_count"] == INT64_MAX and shown["data_volume_bytes"] == INT64_MAX


def test_changes_in_a_registration_are_bounded_too(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    change = {"type": "change", "subject": {"resource_id": resource["id"]}, "changes": {"record_count": 10**30}}
    _names_field(
        client.post("/api/v1/registrations", json=change, headers=bearer(provider.token)), "changes.record_count"
    )


@pytest.mark.parametrize("year", [0, 10_000, 99_999, 2**63])
def test_calendar_years_a_date_cannot_hold_are_422(client: TestClient, operator: str, year: int) -> None:
    _names_field(client.get(f"/api/v1/calendar/{year}", headers=bearer(operator)), "year")
    _names_field(client.put(f"/api/v1/calendar/{year}", json={}, headers=bearer(operator)), "year")


def test_calendar_edges_of_the_date_range_answer(client: TestClient, operator: str) -> None:
    for year in (1, 9999):
        assert client.get(f"/api/v1/calendar/{year}", headers=bearer(operator)).status_code == 200
        assert client.put(f"/api/v1/calendar/{year}", json={}, headers=bearer(operator)).status_code == 200


def test_the_holiday_service_refuses_a_year_out_of_range(client: TestClient, app: object) -> None:
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)
    session: Session
    with app.state.open_session() as session:
        with pytest.raises(InvalidInput) as raised:
            holidays.read_year(session, 10_000)
        assert [p.field for p in raised.value.errors] == ["year"]
        with pytest.raises(InvalidInput):
            holidays.replace_year(session, Caller(name="op", role=Role.operator), 0, CalendarYear())


@pytest.mark.parametrize("subject", [{"resource_id": ""}, {"product_id": ""}, {"resource_id": "x" * 27}])
def test_an_empty_or_overlong_subject_id_is_422(
    client: TestClient, provider: Provider, subject: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/registrations", json={"type": "first", "subject": subject}, headers=bearer(provider.token)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith("subject.")


def test_a_contact_email_longer_than_its_column_is_422(client: TestClient, operator: str) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".cn"  # a valid address of 250 characters; the column holds 200
    response = client.post("/api/v1/entities", json=entity_body(7, contact_email=email), headers=bearer(operator))
    _names_field(response, "contact_email")
