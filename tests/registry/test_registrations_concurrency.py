"""Races at the service level: real threads, each with its own session, started together by a barrier.

The records are set up over HTTP; the race itself calls the use cases directly, as two requests would.
SQLite takes its write lock at BEGIN IMMEDIATE and so serialises writers outright; the races that matter
run on PostgreSQL, where two transactions really read the same row before either writes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, col, func, select

from auth.caller import Caller
from auth.roles import Role
from catalog.settings import Settings
from registry import entities
from registry.context import bind
from registry.counters import next_value
from registry.enums import RegistrationType
from registry.exceptions import ConcurrentUpdate, StepNotAllowed
from registry.models import Counter, Entity, Registration
from registry.registrations import create_registration, take_step
from registry.schemas import EntityCreate, RegistrationCreate, SubjectRef
from storage.db import session_scope
from storage.exceptions import Conflict
from tests.support.data import bearer, entity_body, make_account, resource_body
from tests.support.registry import Provider

T = TypeVar("T")

on_postgres = pytest.mark.skipif(
    not os.environ.get("PDR_TEST_DATABASE_URL"), reason="a real race needs PostgreSQL (PDR_TEST_DATABASE_URL)"
)
ROUNDS = 20


def run_together(*jobs: Callable[[threading.Barrier], T]) -> list[T | Exception]:
    """Run each job in its own thread; each gets a shared barrier to wait on where the race should start."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    outcomes: list[T | Exception] = [RuntimeError("did not run")] * len(jobs)

    def run(i: int, job: Callable[[threading.Barrier], T]) -> None:
        try:
            outcomes[i] = job(barrier)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


def wait_before_first_flush(session: Session, barrier: threading.Barrier) -> None:
    """Hold the session's first write until every racer has done its reads."""
    waited = False

    def hold(*_: Any) -> None:
        nonlocal waited
        if not waited:
            waited = True
            barrier.wait()

    event.listen(session, "before_flush", hold)


def staff(engine: Engine, settings: Settings, name: str) -> Caller:
    """A Caller for a new operator account."""
    account_id, _ = make_account(engine, settings.auth, Role.operator, name=name)
    return Caller(account_id=account_id, name=name, role=Role.operator)


def as_provider(provider: Provider) -> Caller:
    """The Caller a provider's requests run as."""
    return Caller(account_id=provider.account_id, name="provider-1", role=Role.provider, entity_id=provider.entity_id)


def submitted_registration(client: TestClient, provider: Provider) -> dict[str, Any]:
    """A fresh registration, submitted and waiting for acceptance."""
    resource = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token))
    assert resource.status_code == 201, resource.text
    body = {"type": "first", "subject": {"resource_id": resource.json()["id"]}}
    created = client.post("/api/v1/registrations", json=body, headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    submitted = client.post(f"/api/v1/registrations/{created.json()['id']}/submit", headers=bearer(provider.token))
    assert submitted.status_code == 200, submitted.text
    return dict(submitted.json())


# ---------------------------------------------------------------- one winner per step


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize(
    "actions", [("accept", "accept"), ("accept", "return")], ids=["accept-accept", "accept-return"]
)
def test_two_operators_take_a_step_at_once(
    client: TestClient,
    app: FastAPI,
    engine: Engine,
    settings: Settings,
    provider: Provider,
    operator: str,
    actions: tuple[str, str],
) -> None:
    callers = (staff(engine, settings, "operator-a"), staff(engine, settings, "operator-b"))

    def step(caller: Caller, reg_id: str, action: str, read_first: bool) -> Callable[[threading.Barrier], str]:
        def job(barrier: threading.Barrier) -> str:
            with session_scope(engine) as session:
                bind(session, app.state.clock(), app.state.keyring)
                if read_first:
                    # Both load the same version before either writes: the version check alone must decide.
                    session.get(Registration, reg_id)
                barrier.wait()
                missing = ["存储位置证明"] if action == "return" else None
                take_step(session, caller, settings.registry, reg_id, action, missing_items=missing)
                return action

        return job

    for round_ in range(ROUNDS):
        before = submitted_registration(client, provider)
        read_first = round_ % 2 == 0
        outcomes = run_together(
            *(step(caller, before["id"], action, read_first) for caller, action in zip(callers, actions, strict=True))
        )

        winners = [o for o in outcomes if isinstance(o, str)]
        losers = [o for o in outcomes if isinstance(o, Exception)]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1 and isinstance(losers[0], Conflict), outcomes
        assert isinstance(losers[0], ConcurrentUpdate if read_first else ConcurrentUpdate | StepNotAllowed), outcomes

        after = client.get(f"/api/v1/registrations/{before['id']}", headers=bearer(operator)).json()
        assert after["version"] == before["version"] + 1
        assert after["state"] == {"accept": "accepted", "return": "returned"}[winners[0]]
        steps = [s["action"] for s in after["history"]]
        assert steps == ["create", "submit", winners[0]]
        assert steps.count(winners[0]) == 1


def test_steps_on_different_registrations_all_succeed(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, provider: Provider, operator: str
) -> None:
    caller = staff(engine, settings, "operator-a")
    regs = [submitted_registration(client, provider) for _ in range(4)]

    def accept(reg_id: str) -> Callable[[threading.Barrier], int]:
        def job(barrier: threading.Barrier) -> int:
            with session_scope(engine) as session:
                bind(session, app.state.clock(), app.state.keyring)
                barrier.wait()
                return take_step(session, caller, settings.registry, reg_id, "accept").version

        return job

    outcomes = run_together(*(accept(reg["id"]) for reg in regs))
    assert outcomes == [reg["version"] + 1 for reg in regs]
    for reg in regs:
        after = client.get(f"/api/v1/registrations/{reg['id']}", headers=bearer(operator)).json()
        assert after["state"] == "accepted"
        assert [s["action"] for s in after["history"]] == ["create", "submit", "accept"]


# ---------------------------------------------------------------- uniqueness checked before writing


@pytest.mark.postgres
@on_postgres
def test_the_same_code_registered_twice_at_once(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings
) -> None:
    callers = (staff(engine, settings, "operator-a"), staff(engine, settings, "operator-b"))

    def create(caller: Caller) -> Callable[[threading.Barrier], str]:
        def job(barrier: threading.Barrier) -> str:
            with session_scope(engine) as session:
                bind(session, app.state.clock(), app.state.keyring)
                wait_before_first_flush(session, barrier)  # both have checked the code is free
                return entities.create_entity(session, caller, EntityCreate.model_validate(entity_body(90))).id

        return job

    outcomes = run_together(*(create(caller) for caller in callers))
    with session_scope(engine) as session:
        stored = session.exec(
            select(func.count()).select_from(Entity).where(col(Entity.uscc) == entity_body(90)["uscc"])
        )
        assert stored.one() == 1
    assert sum(isinstance(o, str) for o in outcomes) == 1, outcomes
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    assert [e.field for e in conflicts[0].errors] == ["uscc"]


@pytest.mark.postgres
@on_postgres
def test_one_open_registration_per_subject_under_a_race(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, provider: Provider
) -> None:
    resource = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token)).json()
    caller = as_provider(provider)
    data = RegistrationCreate(type=RegistrationType.first, subject=SubjectRef(resource_id=resource["id"]))

    def apply(barrier: threading.Barrier) -> str:
        with session_scope(engine) as session:
            bind(session, app.state.clock(), app.state.keyring)
            wait_before_first_flush(session, barrier)  # both have seen no open registration
            return create_registration(session, caller, data).id

    outcomes = run_together(apply, apply)
    with session_scope(engine) as session:
        stored = session.exec(
            select(func.count()).select_from(Registration).where(col(Registration.subject_id) == resource["id"])
        )
        assert stored.one() == 1
    assert sum(isinstance(o, str) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes


# ---------------------------------------------------------------- counters


def test_a_counter_hands_out_each_value_once(engine: Engine) -> None:
    threads, per_thread = 8, 25

    def take(barrier: threading.Barrier) -> list[int]:
        barrier.wait()
        values = []
        for _ in range(per_thread):
            with session_scope(engine) as session:
                values.append(next_value(session, "test:race"))
                session.commit()
        return values

    outcomes = run_together(*([take] * threads))
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert not failures, failures
    values = [v for o in outcomes if isinstance(o, list) for v in o]
    assert sorted(values) == list(range(1, threads * per_thread + 1))
    for taken in outcomes:
        assert isinstance(taken, list)
        assert taken == sorted(taken)  # one thread's values only ever go up
    with session_scope(engine) as session:
        counter = session.get(Counter, "test:race")
        assert counter is not None
        assert counter.value == threads * per_thread
