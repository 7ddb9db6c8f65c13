"""Every exchange endpoint for every role: allowed or denied, and a denied caller learns nothing it may not know."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from tests.support.data import bearer
from tests.support.exchange import (
    World,
    add_operator_entity,
    content_url,
    granted,
    request_body,
)

ROLES = ("anonymous", "consumer", "provider", "other_provider", "operator", "admin")

# endpoint -> expected status for each role, in ROLES order.
EXPECTED: dict[str, tuple[int, ...]] = {
    "request conditional dataset": (401, 201, 409, 201, 403, 403),
    "request not_open dataset": (401, 404, 409, 404, 403, 403),
    "request draft product": (401, 404, 409, 404, 403, 403),
    "read someone's request": (401, 200, 200, 404, 200, 200),
    "read a missing request": (401, 404, 404, 404, 404, 404),
    "list requests": (401, 200, 200, 200, 200, 200),
    "approve": (401, 403, 200, 404, 403, 403),
    "reject": (401, 403, 200, 404, 403, 403),
    "list grants": (401, 200, 200, 200, 200, 200),
    "read grant": (401, 200, 200, 404, 200, 200),
    "revoke grant": (401, 403, 200, 404, 200, 200),
    "download conditional": (403, 200, 200, 403, 200, 200),
    "download not_open": (404, 404, 200, 404, 200, 200),
    "list downloads": (401, 200, 200, 200, 200, 200),
    "export downloads": (401, 200, 200, 200, 200, 200),
    "create listing": (401, 403, 201, 403, 201, 201),
    "list unregistered product": (401, 403, 409, 404, 409, 409),
    "search listings": (200, 200, 200, 200, 200, 200),
    "read suspended listing": (404, 404, 200, 404, 200, 200),
    "suspend listing": (401, 403, 200, 403, 200, 200),
    "operator disclosure": (200, 200, 200, 200, 200, 200),
    "disclosure of a non-operator": (404, 404, 404, 404, 404, 404),
}

# What each role sees in the lists, after the consumer's one request and grant.
LIST_COUNTS = {"anonymous": None, "consumer": 1, "provider": 1, "other_provider": 0, "operator": 1, "admin": 1}


def _headers(w: World, role: str) -> dict[str, str]:
    token = {
        "anonymous": None,
        "consumer": w.consumer,
        "provider": w.provider.token,
        "other_provider": w.other.token,
        "operator": w.operator,
        "admin": w.admin,
    }[role]
    return bearer(token) if token else {}


def _pending(client: TestClient, w: World) -> str:
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=bearer(w.consumer)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _listing(client: TestClient, w: World) -> str:
    body = {
        "product_id": w.product,
        "delivery_mode": "file",
        "pricing_unit": "份",
        "price": "0",
        "use_category": "public_welfare",
    }
    made = client.post("/api/v1/listings", json=body, headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_for_every_role(
    client: TestClient, world: World, engine: Engine, settings: Settings, role: str
) -> None:
    w = world
    h = _headers(w, role)
    # The consumer's request and grant, made before the role acts; the listing states set up by the provider.
    first = granted(client, w)
    request_id, grant_id = first["id"], first["grant_id"]
    suspended = _listing(client, w)
    assert client.post(f"/api/v1/listings/{suspended}/suspend", headers=bearer(w.provider.token)).status_code == 200
    operator_entity = add_operator_entity(engine)
    listing_body = {"delivery_mode": "api", "pricing_unit": "次", "price": "10", "use_category": "industry"}

    calls: dict[str, Callable[[], httpx.Response]] = {
        "request conditional dataset": lambda: client.post(
            "/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=h
        ),
        "request not_open dataset": lambda: client.post(
            "/api/v1/access-requests", json=request_body(dataset_id=w.not_open), headers=h
        ),
        "request draft product": lambda: client.post(
            "/api/v1/access-requests", json=request_body(product_id=w.draft_product), headers=h
        ),
        "read someone's request": lambda: client.get(f"/api/v1/access-requests/{request_id}", headers=h),
        "read a missing request": lambda: client.get("/api/v1/access-requests/01m00000000000000000000000", headers=h),
        "list requests": lambda: client.get("/api/v1/access-requests", params={"state": "approved"}, headers=h),
        "approve": lambda: client.post(f"/api/v1/access-requests/{_pending(client, w)}/approve", headers=h),
        "reject": lambda: client.post(
            f"/api/v1/access-requests/{_pending(client, w)}/reject", json={"reason": "不符合"}, headers=h
        ),
        "list grants": lambda: client.get("/api/v1/grants", headers=h),
        "read grant": lambda: client.get(f"/api/v1/grants/{grant_id}", headers=h),
        "download conditional": lambda: client.get(content_url(w), headers=h),
        "download not_open": lambda: client.get(content_url(w, w.not_open, _not_open_file(client, w)), headers=h),
        "list downloads": lambda: client.get("/api/v1/downloads", headers=h),
        "export downloads": lambda: client.get("/api/v1/downloads.csv", headers=h),
        "create listing": lambda: client.post(
            "/api/v1/listings", json={**listing_body, "product_id": w.product}, headers=h
        ),
        "list unregistered product": lambda: client.post(
            "/api/v1/listings", json={**listing_body, "product_id": w.draft_product}, headers=h
        ),
        "search listings": lambda: client.get("/api/v1/listings", headers=h),
        "read suspended listing": lambda: client.get(f"/api/v1/listings/{suspended}", headers=h),
        "suspend listing": lambda: client.post(f"/api/v1/listings/{_listing(client, w)}/suspend", headers=h),
        "operator disclosure": lambda: client.get(f"/api/v1/disclosures/{operator_entity}/2026", headers=h),
        "disclosure of a non-operator": lambda: client.get(
            f"/api/v1/disclosures/{w.provider.entity_id}/2026", headers=h
        ),
        # Last: it ends the consumer's grant.
        "revoke grant": lambda: client.post(f"/api/v1/grants/{grant_id}/revoke", json={"reason": "核查"}, headers=h),
    }
    # Before the role acts: the lists hold the consumer's one request and grant, or nothing.
    if LIST_COUNTS[role] is not None:
        for path in ("/api/v1/grants", "/api/v1/access-requests?state=approved"):
            assert client.get(path, headers=h).json()["count"] == LIST_COUNTS[role], path
    assert set(calls) == set(EXPECTED)
    index = ROLES.index(role)
    got = {name: call().status_code for name, call in calls.items()}
    assert got == {name: EXPECTED[name][index] for name in calls}

    # A 404 says the same whether the thing exists or not: nothing in it names the hidden record.
    hidden = client.get(f"/api/v1/access-requests/{request_id}", headers=h)
    missing = client.get("/api/v1/access-requests/01m00000000000000000000000", headers=h)
    if hidden.status_code == 404:
        assert _anonymised(hidden) == _anonymised(missing)
    not_open = client.post("/api/v1/access-requests", json=request_body(dataset_id=w.not_open), headers=h)
    nothing = client.post("/api/v1/access-requests", json=request_body(dataset_id="no-such-dataset"), headers=h)
    assert not_open.status_code in (nothing.status_code, 409)
    if not_open.status_code == 404:
        assert _anonymised(not_open) == _anonymised(nothing)


def _not_open_file(client: TestClient, w: World) -> str:
    files = client.get(f"/api/v1/datasets/{w.not_open}/files", headers=bearer(w.provider.token)).json()
    return str(files[0]["id"])


def _anonymised(response: httpx.Response) -> dict[str, object]:
    """A problem body without what differs per request anyway (the path asked for, the request id)."""
    return {k: v for k, v in response.json().items() if k not in ("instance", "request_id")}
