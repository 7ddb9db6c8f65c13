"""A grant's listed status follows the clock and its quota: pending until it starts, then active, expired or used up."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import FakeClock, bearer
from tests.support.exchange import World, content_url, request_body


def _grant_from(client: TestClient, w: World, start: str, *, quota: int | None = None) -> dict[str, Any]:
    """The consumer applies for a period that starts on `start`; the provider approves; returns the grant."""
    body = request_body(dataset_id=w.conditional, requested_from=start, requested_until="2026-12-31")
    made = client.post("/api/v1/access-requests", json=body, headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    decision: dict[str, Any] = {"reason": "同意"} | ({"download_quota": quota} if quota else {})
    approved = client.post(
        f"/api/v1/access-requests/{made.json()['id']}/approve", json=decision, headers=bearer(w.provider.token)
    )
    assert approved.status_code == 200, approved.text
    grants = client.get("/api/v1/grants", headers=bearer(w.consumer)).json()["items"]
    return dict(grants[0])


def _states(client: TestClient, w: World, state: str) -> list[str]:
    listed = client.get("/api/v1/grants", params={"state": state}, headers=bearer(w.consumer))
    assert listed.status_code == 200, listed.text
    return [grant["id"] for grant in listed.json()["items"]]


def test_a_grant_that_starts_tomorrow_is_pending_and_says_when(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    w = world
    grant = _grant_from(client, w, "2026-11-24")
    assert grant["state"] == "pending"
    assert client.get(f"/api/v1/grants/{grant['id']}", headers=bearer(w.consumer)).json()["state"] == "pending"
    assert (_states(client, w, "pending"), _states(client, w, "active")) == ([grant["id"]], [])
    refused = client.get(content_url(w), headers=bearer(w.consumer))
    assert refused.status_code == 403
    # Midnight of 24 November in China is 16:00 UTC on the 23rd.
    assert refused.json()["starts_at"] == "2026-11-23T16:00:00Z"
    assert "starts at 2026-11-23T16:00:00Z" in refused.json()["detail"]
    clock.set_china(date(2026, 11, 24), 0)
    assert client.get(f"/api/v1/grants/{grant['id']}", headers=bearer(w.consumer)).json()["state"] == "active"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    clock.set_china(date(2027, 1, 1), 0)
    assert _states(client, w, "expired") == [grant["id"]]
    assert client.get(content_url(w), headers=bearer(w.consumer)).json()["detail"].startswith("no live grant")


def test_used_up_and_revoked_grants_are_listed_as_such(client: TestClient, world: World) -> None:
    w = world
    grant = _grant_from(client, w, "2026-11-23", quota=1)
    assert grant["state"] == "active"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    assert _states(client, w, "used_up") == [grant["id"]]
    assert _states(client, w, "active") == []
    revoked = client.post(
        f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "停止合作"}, headers=bearer(w.provider.token)
    )
    assert (revoked.status_code, revoked.json()["state"]) == (200, "revoked")
    assert (_states(client, w, "revoked"), _states(client, w, "used_up")) == ([grant["id"]], [])
    assert client.get("/api/v1/grants", params={"state": "later"}, headers=bearer(w.consumer)).status_code == 422
