"""The password sign-in's lockout is kept per account and client address, with a growing back-off: an outsider
cannot lock a known account out from elsewhere, and one who keeps guessing waits longer each time."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, make_account

PASSWORD = "correct horse battery"
WRONG = "guess guess guess"


def _login(client: TestClient, name: str, password: str) -> httpx.Response:
    return client.post("/api/v1/login", json={"name": name, "password": password})


def _outsider(app: FastAPI, address: str = "203.0.113.9") -> TestClient:
    # No `with`: the app's lifespan already runs for the fixture's client.
    return TestClient(app, client=(address, 40000))


def test_an_outsider_cannot_lock_the_owner_out(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="heidi", password=PASSWORD)
    outsider = _outsider(app)
    for _ in range(settings.auth.login_max_failures):
        assert _login(outsider, "heidi", WRONG).status_code == 401
    assert _login(outsider, "heidi", PASSWORD).status_code == 429
    assert _login(client, "heidi", PASSWORD).status_code == 200  # the owner, from the usual address


def test_the_back_off_grows_with_each_further_failure(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="ivan", password=PASSWORD)
    outsider = _outsider(app)
    for _ in range(settings.auth.login_max_failures):
        _login(outsider, "ivan", WRONG)
    waits = []
    for _ in range(3):
        refused = _login(outsider, "ivan", WRONG)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        clock.now += timedelta(seconds=wait + 1)
        assert _login(outsider, "ivan", WRONG).status_code == 401  # one more guess once the wait is over
    assert waits[0] > 0 and waits[1] > waits[0] and waits[2] > waits[1]
    assert waits[2] <= settings.auth.login_max_lockout_seconds


def test_a_successful_sign_in_starts_the_count_again(
    client: TestClient, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="judy", password=PASSWORD)
    for _ in range(2):
        for _ in range(settings.auth.login_max_failures - 1):
            assert _login(client, "judy", WRONG).status_code == 401
        assert _login(client, "judy", PASSWORD).status_code == 200


def test_one_address_guessing_many_names_is_slowed_down(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="kate", password=PASSWORD)
    sprayer = _outsider(app, "198.51.100.7")
    refused = 0
    for serial in range(settings.auth.login_max_failures * 5):
        refused += _login(sprayer, f"name-{serial}", WRONG).status_code == 429
    assert refused > 0
    assert _login(sprayer, "kate", PASSWORD).status_code == 429
    assert _login(client, "kate", PASSWORD).status_code == 200
