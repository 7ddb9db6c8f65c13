"""The per-process token cache: a second's trust at most, at once forgotten on a revocation here, and never for an
account that is inactive or still waiting for its entity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from auth import token_cache
from auth.models import Account, ApiToken
from auth.roles import Role
from auth.token_cache import TokenCache
from catalog.settings import Settings
from storage.db import session_scope
from tests.support.data import bearer, make_account

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _account(role: Role = Role.consumer, entity_id: str | None = "01entity", active: bool = True) -> Account:
    return Account(id="01acct", name="reader", role=role, entity_id=entity_id, is_active=active, created_at=NOW)


class _Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    moved = _Clock()
    monkeypatch.setattr(token_cache.time, "monotonic", moved)
    return moved


def test_an_entry_is_trusted_for_a_second_at_most(clock: _Clock) -> None:
    cache = TokenCache(ttl=1.0)
    cache.put("digest", "01token", None, _account())
    clock.value += 0.9
    found = cache.get("digest", NOW)
    assert found is not None and found.account.name == "reader" and found.token_id == "01token"
    clock.value += 0.1
    assert cache.get("digest", NOW) is None and len(cache) == 0


def test_an_expired_token_is_not_served_from_the_cache(clock: _Clock) -> None:
    cache = TokenCache()
    cache.put("digest", "01token", NOW + timedelta(seconds=5), _account())
    assert cache.get("digest", NOW) is not None
    assert cache.get("digest", NOW + timedelta(seconds=5)) is None


def test_a_revocation_in_this_process_is_forgotten_at_once(clock: _Clock) -> None:
    cache = TokenCache()
    cache.put("a", "01token", None, _account())
    cache.put("b", "02token", None, _account())
    cache.forget_token("01token")
    assert cache.get("a", NOW) is None and cache.get("b", NOW) is not None


@pytest.mark.parametrize(
    "account",
    [_account(active=False), _account(Role.provider, entity_id=None)],
    ids=["inactive", "provider-without-entity"],
)
def test_unsettled_accounts_are_never_cached(clock: _Clock, account: Account) -> None:
    cache = TokenCache()
    cache.put("digest", "01token", None, account)
    assert cache.get("digest", NOW) is None


def test_a_consumer_without_an_entity_is_cached(clock: _Clock) -> None:
    cache = TokenCache()
    cache.put("digest", "01token", None, _account(Role.consumer, entity_id=None))
    assert cache.get("digest", NOW) is not None


def test_the_cache_stays_bounded(clock: _Clock) -> None:
    cache = TokenCache(max_entries=10)
    for number in range(25):
        cache.put(f"digest-{number}", f"token-{number}", None, _account())
    assert len(cache) <= 10 and cache.get("digest-24", NOW) is not None


def test_a_revocation_elsewhere_is_seen_here_within_the_second(
    client: TestClient, engine: Engine, settings: Settings, clock: _Clock
) -> None:
    _, token = make_account(engine, settings.auth, Role.admin)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    # Another process revokes it: a write to the database that this process's cache does not hear of.
    with session_scope(engine) as session:
        session.execute(update(ApiToken).values(revoked_at=NOW))
        session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # trusted for the rest of its second
    clock.value += token_cache.TTL_SECONDS
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_revocation_through_this_process_stops_the_token_at_once(
    client: TestClient, engine: Engine, settings: Settings, clock: _Clock
) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin)
    made = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=bearer(admin))
    assert made.status_code == 201, made.text
    second = made.json()["token"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=bearer(admin))
    assert revoked.status_code == 204, revoked.text
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 401
