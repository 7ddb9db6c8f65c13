"""What issuing a certificate costs the database: a fixed number of statements, whatever the engine, and the log's
lock taken once per transaction (again only where a savepoint that took it was rolled back, which released it)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from auth.caller import Caller
from auth.roles import Role
from catalog.settings import Settings
from registry import certificates, log
from registry.certificate_batches import issue_batch
from registry.context import bind
from registry.keys import KeyRing
from registry.schemas import CertificateRequest
from storage.db import session_scope
from tests.support.certificates import registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider
from tests.support.statements import statements

STAFF = Caller(account_id=None, name="operator", role=Role.operator)
SCOPE = "在广州市范围内用于交通规划研究"
# BEGIN IMMEDIATE on SQLite, the log's advisory lock on PostgreSQL; then the target with its registration, holder
# and any open cancellation (1), both counters (1), and in one statement the log's size with its checkpoint, the
# status list's length and the ids of the keys that sign now (1). No key row is read: the app's key ring has seen
# those keys. No hash is read either: this process built the tree the checkpoint names and kept its frontier. Then
# the log entry, its nodes, the checkpoint, the audit event and the certificate: one statement on PostgreSQL, five on
# SQLite, which has no INSERT in a WITH clause.
STATEMENTS_PER_ISSUE = {"postgresql": 5, "sqlite": 9}


def _issue(
    engine: Engine, settings: Settings, keyring: KeyRing, clock: FakeClock, resource: dict[str, Any], *, batch: bool
) -> None:
    """Issue one certificate on the resource, alone or as a batch of one, in a session of its own."""
    request = CertificateRequest(resource_id=resource["id"], rights=["holding"], scope=SCOPE)
    with session_scope(engine) as session:
        bound = bind(session, clock.now, keyring)
        if batch:
            issue_batch(bound, STAFF, settings.registry, settings.base_url, [request])
        else:
            certificates.issue(bound, STAFF, settings.registry, settings.base_url, request)


def test_a_single_issue_runs_a_fixed_number_of_statements(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine, settings: Settings
) -> None:
    resources = [registered_resource(client, clock, provider, operator, name=f"计数资源{i}") for i in range(4)]
    keyring = settings.keyring()  # one per process, as the app keeps
    expected = STATEMENTS_PER_ISSUE[engine.dialect.name]
    # The first certificate publishes the status list, which later ones find in place.
    _issue(engine, settings, keyring, clock, resources[0], batch=False)
    with statements(engine) as single:
        _issue(engine, settings, keyring, clock, resources[1], batch=False)
    assert len(single) == expected, "\n".join(single)
    with statements(engine) as batch_of_one:
        _issue(engine, settings, keyring, clock, resources[2], batch=True)
    assert len(batch_of_one) == expected, "\n".join(batch_of_one)
    # A new key ring (another process's) reads the two key rows once.
    with statements(engine) as first_in_process:
        _issue(engine, settings, settings.keyring(), clock, resources[3], batch=False)
    assert len(first_in_process) == expected + 1, "\n".join(first_in_process)
    assert sum("signing_key.id IN" in statement for statement in first_in_process) == 1


_ADVISORY_LOCKS = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("PDR_TEST_DATABASE_URL"), reason="needs PostgreSQL (PDR_TEST_DATABASE_URL)")
def test_the_log_lock_is_taken_once_per_transaction_and_again_after_a_savepoint_rolled_it_back(engine: Engine) -> None:
    with session_scope(engine) as session, statements(engine) as seen:

        def locks_taken() -> int:
            return sum("pg_advisory_xact_lock" in statement for statement in seen)

        log.lock(session)
        log.lock(session)
        with session.begin_nested():
            log.lock(session)  # the transaction around the savepoint holds it
        assert locks_taken() == 1
        session.rollback()
        assert session.execute(_ADVISORY_LOCKS).scalar_one() == 0
        savepoint = session.begin_nested()
        log.lock(session)
        savepoint.rollback()  # which releases the lock taken under it
        assert session.execute(_ADVISORY_LOCKS).scalar_one() == 0
        log.lock(session)
        assert locks_taken() == 3
        assert session.execute(_ADVISORY_LOCKS).scalar_one() == 1
