"""The audit trail: a row with every change, none without it, and refused requests recorded too."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from auth import service
from auth.caller import Caller
from auth.models import Account, AuditEvent
from auth.roles import Role
from catalog.settings import Settings
from storage.db import session_scope
from tests.support.data import bearer, make_account


def _events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_a_change_writes_one_row_with_its_context(client: TestClient, engine: Engine, settings: Settings) -> None:
    account_id, token = make_account(engine, settings.auth, Role.consumer)
    before = len(_events(engine))
    response = client.post("/api/v1/tokens", json={"name": "x"}, headers={**bearer(token), "X-Request-ID": "req-123"})
    assert response.status_code == 201
    events = _events(engine)[before:]
    assert len(events) == 1
    event = events[0]
    assert event.action == "token.create"
    assert event.actor_id == account_id
    assert event.target == f"token:{response.json()['id']}"
    assert event.outcome == "success"
    assert event.request_id == "req-123"
    assert event.client_addr == "testclient"


def test_no_row_without_the_change(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_commit(self: Session) -> None:
        raise RuntimeError("disk full")

    with session_scope(engine) as session:
        monkeypatch.setattr(Session, "commit", failing_commit)
        with pytest.raises(RuntimeError):
            service.create_account(session, Caller(name="t"), settings.auth, name="ghost", role=Role.consumer)
    monkeypatch.undo()
    assert _events(engine) == []
    with session_scope(engine) as session:
        assert session.exec(select(Account)).all() == []


def test_refused_request_is_recorded_without_a_change(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin, name="root")
    before = len(_events(engine))
    response = client.post("/api/v1/accounts", json={"name": "root", "role": "consumer"}, headers=bearer(admin))
    assert response.status_code == 409
    events = _events(engine)[before:]
    assert len(events) == 1
    assert events[0].outcome == "rejected"
    assert events[0].status == 409
    assert events[0].action == "POST /api/v1/accounts"
    assert events[0].actor_name == "root"


def test_anonymous_refusal_is_recorded(client: TestClient, engine: Engine) -> None:
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    events = _events(engine)
    assert len(events) == 1
    assert events[0].outcome == "denied"
    assert events[0].actor_id is None


def test_reads_write_no_rows(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    before = len(_events(engine))
    client.get("/api/v1/me", headers=bearer(token))
    client.get("/api/v1/tokens", headers=bearer(token))
    assert len(_events(engine)) == before


def test_admin_pages_through_the_trail(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin)
    for i in range(5):
        client.post("/api/v1/tokens", json={"name": f"t{i}"}, headers=bearer(admin))
    first = client.get("/api/v1/audit?limit=2&action=token.create", headers=bearer(admin)).json()
    assert first["count"] == 5
    assert len(first["items"]) == 2
    second = client.get(
        f"/api/v1/audit?limit=10&action=token.create&cursor={first['next_cursor']}", headers=bearer(admin)
    ).json()
    assert len(second["items"]) == 3
    assert second["next_cursor"] is None
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert client.get("/api/v1/audit?cursor=!!!", headers=bearer(admin)).status_code == 422
