"""Refusals of anonymous callers are counted per minute, route and status, so anonymous traffic cannot grow the
audit trail without bound; signed-in callers' refusals and failed sign-ins stay one row each."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from auth import audit
from auth.models import AuditEvent, AuditTally
from auth.roles import Role
from catalog.settings import Settings
from storage.db import session_scope
from tests.support.data import FakeClock, bearer, dataset_body, make_account


def _events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def _tallies(engine: Engine) -> list[AuditTally]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditTally).order_by(col(AuditTally.minute), col(AuditTally.action))).all())


def test_many_anonymous_refusals_leave_one_row_per_minute_route_and_status(
    client: TestClient, engine: Engine, clock: FakeClock
) -> None:
    for _ in range(60):
        assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    for _ in range(5):
        assert client.post("/api/v1/datasets", json=dataset_body()).status_code == 401
    events = _events(engine)
    assert len(events) == 2
    assert {e.action for e in events} == {"POST /api/v1/tokens", "POST /api/v1/datasets"}
    assert all(e.actor_id is None and e.request_id for e in events)
    tallies = {t.action: t for t in _tallies(engine)}
    assert tallies["POST /api/v1/tokens"].count == 60
    assert tallies["POST /api/v1/tokens"].status == 401
    assert tallies["POST /api/v1/tokens"].outcome == "denied"
    assert tallies["POST /api/v1/datasets"].count == 5
    # The next minute starts a new count, and leaves one more row in the trail.
    clock.now += timedelta(minutes=1)
    for _ in range(3):
        client.post("/api/v1/tokens", json={"name": "x"})
    assert len(_events(engine)) == 3
    counts = [t.count for t in _tallies(engine) if t.action == "POST /api/v1/tokens"]
    assert counts == [60, 3]


def test_tallies_are_listed_for_admins_newest_first(client: TestClient, engine: Engine, clock: FakeClock) -> None:
    for _ in range(4):
        client.post("/api/v1/tokens", json={"name": "x"})
    clock.now += timedelta(minutes=2)
    client.post("/api/v1/tokens", json={"name": "x"})
    with session_scope(engine) as session:
        listed = audit.list_tallies(session, since=clock.now - timedelta(hours=1))
    assert [(t.action, t.status, t.count) for t in listed] == [
        ("POST /api/v1/tokens", 401, 1),
        ("POST /api/v1/tokens", 401, 4),
    ]


def test_signed_in_refusals_stay_one_row_each(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    before = len(_events(engine))
    for _ in range(5):
        assert client.get("/api/v1/audit", headers=bearer(token)).status_code == 403  # a read: never audited
        refused = client.post("/api/v1/accounts", json={"name": "n", "role": "consumer"}, headers=bearer(token))
        assert refused.status_code == 403
    events = _events(engine)[before:]
    assert len(events) == 5
    assert all(e.outcome == "denied" and e.actor_id is not None for e in events)
    assert _tallies(engine) == []


def test_failed_sign_ins_stay_one_row_each(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.consumer, name="grace", password="correct horse battery")
    for _ in range(3):
        assert client.post("/api/v1/login", json={"name": "grace", "password": "wrong wrong wrong"}).status_code == 401
    failures = [e for e in _events(engine) if e.action == "auth.login"]
    assert len(failures) == 3 and all(e.outcome == "failure" for e in failures)


def test_admins_read_the_counts_others_may_not(client: TestClient, engine: Engine, settings: Settings) -> None:
    for _ in range(3):
        assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    admin = make_account(engine, settings.auth, Role.admin)[1]
    counts = client.get("/api/v1/audit/tallies", headers=bearer(admin))
    assert counts.status_code == 200
    assert [(t["action"], t["status"], t["count"]) for t in counts.json()] == [("POST /api/v1/tokens", 401, 3)]
    assert client.get("/api/v1/audit/tallies", params={"action": "GET /nowhere"}, headers=bearer(admin)).json() == []
    for role in (Role.operator, Role.provider, Role.consumer):
        token = make_account(engine, settings.auth, role)[1]
        assert client.get("/api/v1/audit/tallies", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/audit/tallies").status_code == 401
