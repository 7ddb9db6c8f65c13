"""Certificates issued per second (the service's use case) on SQLite and PostgreSQL, against raw Ed25519 signing.

Each issuance is one transaction: two counters, the status-list bit, an eddsa-jcs-2022 signature, a log append
with its signed checkpoint, the row and the audit row. The batch runs issue `--batch` certificates to a transaction
(registry.certificate_batches: one range of each counter, one log batch, one checkpoint). Registered subjects are
written straight into the tables first, so only issuing is timed. Prints JSON.

    python bench/certificates.py [--count 500] [--batch 500] [--batch-count 5000] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from support import on_postgres, verified_entity

from auth.caller import Caller
from auth.roles import Role
from registry import certificates, keys
from registry.certificate_batches import issue_batch
from registry.config import RegistrySettings
from registry.context import bind
from registry.credentials import did_key_verification_method, sign_credential
from registry.models import DataResource, Registration
from registry.schemas import CertificateRequest
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BASE_URL = "https://registry.example"


def _registered_subjects(engine: Engine, now: datetime, count: int) -> list[str]:
    """A verified entity and registered resources, written directly."""
    with session_scope(engine) as session:
        entity = verified_entity(session)
        ids = []
        for i in range(count):
            resource = DataResource(
                code=f"R-440100-2026-{i + 1:06d}-X",
                entity_id=entity.id,
                status="registered",
                revision=1,
                name=f"基准测试数据资源{i}",
                summary="基准测试",
                sharing_attribute="unconditional",
                open_attribute="conditional",
                security_level="general",
                update_cycle="monthly",
            )
            session.add(resource)
            session.flush()
            session.add(
                Registration(
                    code=f"PDR-2026-4401-{i + 1:08d}-X",
                    type="first",
                    subject_type="resource",
                    subject_id=resource.id,
                    entity_id=entity.id,
                    state="registered",
                    registered_at=now,
                )
            )
            ids.append(resource.id)
        session.commit()
    return ids


def issue_rate(url: str, count: int, batch: int = 1) -> dict[str, Any]:
    """Issue `count` certificates, one transaction each or `batch` to a transaction; certificates per second."""
    engine = make_engine(DatabaseSettings(database_url=url))
    try:
        migrate.upgrade(engine)
        keyring = keys.KeyRing(passphrase=None, require_encrypted=False)
        with session_scope(engine) as session:
            keys.init_keys(session, "registry.example/log", None)
        now = datetime.now(UTC).replace(microsecond=0)
        # As many subjects as a transaction names: a batch's requests are for distinct subjects, as in real use.
        subjects = _registered_subjects(engine, now, max(20, batch))
        caller = Caller(account_id=None, name="bench", role=Role.operator)
        settings = RegistrySettings()
        # A first issue outside the timing: it publishes the first status list and warms the key cache.
        with session_scope(engine) as session:
            request = CertificateRequest(resource_id=subjects[0], rights=["holding"], scope="基准测试")
            certificates.issue(bind(session, now, keyring), caller, settings, BASE_URL, request)
        requests = [
            CertificateRequest(
                resource_id=subjects[i % len(subjects)], rights=["holding", "processing_use"], scope="基准测试范围"
            )
            for i in range(count)
        ]
        started = time.perf_counter()
        for first in range(0, count, batch):
            with session_scope(engine) as session:
                bound = bind(session, now, keyring)
                if batch == 1:
                    certificates.issue(bound, caller, settings, BASE_URL, requests[first])
                else:
                    issue_batch(bound, caller, settings, BASE_URL, requests[first : first + batch])
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return {
        "certificates": count,
        "per_transaction": batch,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
    }


def signing_rates(seconds: float) -> dict[str, float]:
    """Raw Ed25519 signatures per second, and whole eddsa-jcs-2022 credential proofs per second."""
    key = Ed25519PrivateKey.generate()
    message = os.urandom(64)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1000):
            key.sign(message)
        done += 1000
    raw = done / (time.perf_counter() - started)

    method = did_key_verification_method(key.public_key())
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", f"{BASE_URL}/contexts/pdr/v1"],
        "id": "urn:pdr:certificate:20261244010000001",
        "type": ["VerifiableCredential", "DataPropertyRightCertificate"],
        "issuer": method.split("#")[0],
        "validFrom": "2026-12-08T02:00:00Z",
        "credentialSubject": {"name": "广州市数据局", "uscc": "914401000000000017", "rights": ["holding"]},
    }
    now = datetime.now(UTC)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            sign_credential(credential, key, method, now)
        done += 200
    proofs = done / (time.perf_counter() - started)
    return {"ed25519_signatures_per_second": round(raw, 1), "credential_proofs_per_second": round(proofs, 1)}


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500, help="certificates to issue on each engine")
    parser.add_argument("--postgres", default=os.environ.get("PDR_BENCH_DATABASE_URL", DEFAULT_POSTGRES))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--sign-seconds", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=500, help="certificates per transaction in the batch runs")
    parser.add_argument("--batch-count", type=int, default=5000, help="certificates to issue in batches on each engine")
    args = parser.parse_args()

    result: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "signing": signing_rates(args.sign_seconds),
    }
    sqlite_url = "sqlite:///" + str(Path(tempfile.mkdtemp(prefix="pdr-cert-bench-")) / "pdr.db")
    result["sqlite"] = issue_rate(sqlite_url, args.count)
    result["sqlite_batches"] = issue_rate(sqlite_url.replace("pdr.db", "batches.db"), args.batch_count, args.batch)
    if args.no_postgres:
        result["postgresql"] = result["postgresql_batches"] = None
    else:
        result["postgresql"] = on_postgres(args.postgres, lambda url: issue_rate(url, args.count))
        batched = on_postgres(args.postgres, lambda url: issue_rate(url, args.batch_count, args.batch))
        result["postgresql_batches"] = batched
    raw = result["signing"]["ed25519_signatures_per_second"]
    for engine in ("sqlite", "sqlite_batches", "postgresql", "postgresql_batches"):
        rate = (result.get(engine) or {}).get("per_second")
        if rate:
            result[engine]["share_of_raw_signing"] = round(rate / raw, 5)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
