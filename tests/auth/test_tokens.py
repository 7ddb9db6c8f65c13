"""The API token lifecycle: create, use, list, expire, revoke."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from auth.models import ApiToken
from auth.roles import Role
from auth.schemas import AccountPublic
from catalog.settings import Settings
from storage.db import session_scope
from storage.types import utcnow
from tests.support.data import bearer, make_account


def test_me_answers_with_the_calling_account(client: TestClient, engine: Engine, settings: Settings) -> None:
    account_id, token = make_account(engine, settings.auth, Role.consumer, name="alice")
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["id"] == account_id
    assert response.json()["name"] == "alice"
    assert response.json()["role"] == "consumer"
    # The first answer came from the database check, the second from the token cache: the same bytes, the shape
    # the API documents.
    again = client.get("/api/v1/me", headers=bearer(token))
    assert again.content == response.content
    assert again.headers["content-type"] == "application/json"
    assert set(again.json()) == set(AccountPublic.model_fields)


def test_token_is_stored_only_as_a_keyed_hash(engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken)).one()
    assert len(token) >= 4 + 43  # scheme plus 256 bits in base64url
    assert token not in (row.token_hash, row.prefix, row.name)
    assert token.startswith(row.prefix)
    assert len(row.token_hash) == 64


def test_new_token_works_and_is_listed_without_its_secret(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    created = client.post("/api/v1/tokens", json={"name": "ci", "expires_in_days": 30}, headers=bearer(token))
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(body["prefix"])
    assert body["expires_at"] is not None
    assert client.get("/api/v1/me", headers=bearer(body["token"])).status_code == 200
    listed = client.get("/api/v1/tokens", headers=bearer(token)).json()
    assert listed["count"] == 2
    assert all("token" not in item for item in listed["items"])
    assert {item["name"] for item in listed["items"]} == {"initial", "ci"}


def test_last_used_time_is_recorded(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    client.get("/api/v1/me", headers=bearer(token))
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken)).one()
    assert row.last_used_at is not None


def test_expired_token_gets_401(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_gets_401(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    second = client.post("/api/v1/tokens", json={"name": "temp"}, headers=bearer(token)).json()
    assert client.delete(f"/api/v1/tokens/{second['id']}", headers=bearer(token)).status_code == 204
    response = client.get("/api/v1/me", headers=bearer(second["token"]))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_unknown_and_malformed_tokens_get_401(client: TestClient) -> None:
    assert client.get("/api/v1/me", headers=bearer("pdr_" + "x" * 43)).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_token_of_a_deactivated_account_gets_401(client: TestClient, engine: Engine, settings: Settings) -> None:
    from auth.models import Account

    account_id, token = make_account(engine, settings.auth, Role.consumer)
    with session_scope(engine) as session:
        account = session.get(Account, account_id)
        assert account is not None
        account.is_active = False
        session.add(account)
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_tokens_hashed_under_another_secret_do_not_work(client: TestClient, engine: Engine, settings: Settings) -> None:
    from pydantic import SecretStr

    from auth.config import AuthSettings

    _, token = make_account(engine, AuthSettings(secret_key=SecretStr("another-secret")), Role.consumer)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_revoking_someone_elses_token(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, alice = make_account(engine, settings.auth, Role.consumer)
    _, bob = make_account(engine, settings.auth, Role.consumer)
    _, admin = make_account(engine, settings.auth, Role.admin)
    bobs = client.get("/api/v1/tokens", headers=bearer(bob)).json()["items"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{bobs}", headers=bearer(alice)).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(bob)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{bobs}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(bob)).status_code == 401
