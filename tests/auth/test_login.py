"""Password sign-in for the web pages, and its rate limit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import make_account

PASSWORD = "correct horse battery"


def test_sign_in_gives_a_session_token_and_cookie(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.consumer, name="carol", password=PASSWORD)
    response = client.post("/api/v1/login", json={"name": "carol", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["expires_at"] is not None
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert client.get("/api/v1/me").json()["name"] == "carol"  # the cookie alone


def test_wrong_password_and_unknown_name_look_the_same(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.consumer, name="dave", password=PASSWORD)
    wrong = client.post("/api/v1/login", json={"name": "dave", "password": "nope nope nope"})
    unknown = client.post("/api/v1/login", json={"name": "nobody", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_account_without_password_cannot_sign_in(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.consumer, name="erin")
    assert client.post("/api/v1/login", json={"name": "erin", "password": "anything at all"}).status_code == 401


def test_repeated_failures_are_slowed_down(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.consumer, name="frank", password=PASSWORD)
    for _ in range(settings.auth.login_max_failures):
        assert client.post("/api/v1/login", json={"name": "frank", "password": "guess guess 1"}).status_code == 401
    limited = client.post("/api/v1/login", json={"name": "frank", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0


def test_short_password_refused(engine: Engine, settings: Settings) -> None:
    import pytest

    from storage.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        make_account(engine, settings.auth, Role.consumer, password="short")
