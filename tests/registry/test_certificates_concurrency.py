"""Four worker processes issuing certificates at once on PostgreSQL: distinct numbers and one linear log.

Each process has its own engine on the test's schema, as four service workers would. The subjects are
registered over HTTP first; the race itself calls the issuing use case directly.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import col, select

from auth.caller import Caller
from auth.roles import Role
from catalog.settings import Settings
from registry import certificate_audit, certificates, log
from registry.config import RegistrySettings
from registry.context import bind
from registry.keys import LOG, KeyRing, active_key, log_vkey
from registry.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency
from registry.models import Certificate, LogCheckpoint, LogEntry
from registry.note import parse_and_verify_checkpoint
from registry.schemas import CertificateRequest
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.support.certificates import registered_resource
from tests.support.data import FakeClock, make_account
from tests.support.registry import Provider

WORKERS = 4
# 1,000 certificates in all: on this 2-core machine the race takes about half a minute on PostgreSQL.
PER_WORKER = 250


def _issue_many(
    database_url: str,
    base_url: str,
    subject_id: str,
    count: int,
    operator_id: str,
    now: datetime,
    barrier: Any,
    results: Any,
) -> None:
    """One worker process: its own engine, then `count` certificates, one transaction each."""
    engine = make_engine(DatabaseSettings(database_url=database_url))
    keyring = KeyRing(passphrase=None, require_encrypted=False)
    caller = Caller(account_id=operator_id, name="operator-race", role=Role.operator)
    settings = RegistrySettings()
    request = CertificateRequest(resource_id=subject_id, rights=["holding"], scope="并发签发测试")
    numbers: list[str] = []
    try:
        barrier.wait(timeout=120)
        for _ in range(count):
            with session_scope(engine) as session:
                certificate = certificates.issue(bind(session, now, keyring), caller, settings, base_url, request)
                numbers.append(certificate.number)
        results.put(("ok", numbers))
    except Exception as exc:  # reported to the test, which fails naming it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("PDR_TEST_DATABASE_URL"), reason="needs PostgreSQL (PDR_TEST_DATABASE_URL)")
def test_four_processes_issue_distinct_numbers_into_one_linear_log(
    client: TestClient,
    clock: FakeClock,
    provider: Provider,
    operator: str,
    engine: Engine,
    settings: Settings,
    database_url: str,
) -> None:
    subjects = [
        registered_resource(client, clock, provider, operator, name=f"并发测试数据{i}")["id"] for i in range(WORKERS)
    ]
    operator_id, _ = make_account(engine, settings.auth, Role.operator, name="operator-race")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(
            target=_issue_many,
            args=(
                settings.db.database_url,
                settings.base_url,
                subject,
                PER_WORKER,
                operator_id,
                clock.now,
                barrier,
                results,
            ),
        )
        for subject in subjects
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    outcomes = []
    try:
        for _ in processes:
            outcomes.append(results.get(timeout=600))
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {WORKERS} workers finished")
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    elapsed = time.monotonic() - started
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert errors == []
    numbers = [number for _, batch in outcomes for number in batch]
    assert len(numbers) == WORKERS * PER_WORKER
    assert len(set(numbers)) == len(numbers), "two certificates got the same number"
    print(f"\n{len(numbers)} certificates by {WORKERS} processes in {elapsed:.1f} s")

    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Certificate)).one() == len(numbers)
        indexes = session.exec(select(Certificate.status_index)).all()
        assert len(set(indexes)) == len(numbers)
        assert list(certificate_audit.audit_certificates(session)) == []

        # One linear history: entries 0..n-1 with no gap, and the root recomputed from the leaves themselves.
        entries = session.exec(select(LogEntry.data).order_by(col(LogEntry.idx))).all()
        size = session.exec(select(func.max(LogEntry.idx))).one() + 1
        assert len(entries) == size
        checkpoints = session.exec(select(LogCheckpoint).order_by(col(LogCheckpoint.tree_size))).all()
        assert checkpoints[-1].tree_size == size
        assert checkpoints[-1].root_hash == root_from_leaf_hashes([leaf_hash(data) for data in entries])

        # Every checkpoint is signed by the log key and consistent with the one before it.
        log_key = active_key(session, LOG)
        assert log_key is not None
        vkey = log_vkey(log_key)
        for checkpoint in checkpoints:
            signed = parse_and_verify_checkpoint(checkpoint.note, vkey)
            assert (signed.size, signed.root_hash) == (checkpoint.tree_size, checkpoint.root_hash)
        for before, after in itertools.pairwise(checkpoints):
            proof = log.consistency(session, before.tree_size, after.tree_size)
            assert verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof), (
                f"checkpoint {after.tree_size} does not extend {before.tree_size}"
            )
        # Each issuance is its own append, so each left its own checkpoint.
        issued = session.exec(
            select(func.count()).select_from(LogEntry).where(LogEntry.kind == "certificate.issued")
        ).one()
        assert issued == len(numbers)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("PDR_TEST_DATABASE_URL"), reason="needs PostgreSQL (PDR_TEST_DATABASE_URL)")
def test_two_revocations_of_one_certificate_at_once(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine, settings: Settings
) -> None:
    import threading

    from storage.exceptions import Conflict

    subject = registered_resource(client, clock, provider, operator)["id"]
    operator_id, _ = make_account(engine, settings.auth, Role.operator, name="operator-revoker")
    caller = Caller(account_id=operator_id, name="operator-revoker", role=Role.operator)
    keyring = KeyRing(passphrase=None, require_encrypted=False)
    request = CertificateRequest(resource_id=subject, rights=["holding"], scope="撤销竞争测试")
    with session_scope(engine) as session:
        number = certificates.issue(
            bind(session, clock.now, keyring), caller, settings.registry, settings.base_url, request
        ).number

    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[object] = []

    def revoke(reason: str) -> None:
        with session_scope(engine) as session:
            bind(session, clock.now, keyring)
            barrier.wait()
            try:
                outcomes.append(certificates.revoke(session, caller, number, reason).status)
            except Conflict as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=revoke, args=(f"理由{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == ["revoked", "the certificate is already revoked"]
    with session_scope(engine) as session:
        revoked_events = session.exec(
            select(func.count()).select_from(LogEntry).where(LogEntry.kind == "certificate.revoked")
        ).one()
        assert revoked_events == 1
        assert list(certificate_audit.audit_certificates(session)) == []
