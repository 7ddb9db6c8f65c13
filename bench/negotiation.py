"""Contract negotiation steps per second through the use cases: request -> agreed -> verified -> finalized (four
steps, the last making a grant and its transparency-log entry), one transaction each, on SQLite and PostgreSQL.

    python bench/negotiation.py [--count 200] [--postgres URL | --no-postgres]
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

import support  # noqa: F401 - puts the repository's packages on the import path
from certificates import DEFAULT_POSTGRES
from support import on_postgres, verified_entity

from auth.caller import Caller
from auth.models import Account
from auth.roles import Role
from catalog.datasets.models import Dataset
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.negotiation import Step
from catalog.dataspace.negotiations import Opening, Rules, start_negotiation, take_step
from catalog.dataspace.policies import read_policy
from registry import keys
from registry.context import bind
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope

TERMS: dict[str, Any] = {
    "permission": [
        {
            "action": "use",
            "constraint": [
                {"leftOperand": "scenario", "operator": "eq", "rightOperand": "新能源汽车充电设施规划"},
                {"leftOperand": "useCategory", "operator": "eq", "rightOperand": "industry"},
                {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P1Y"},
                {"leftOperand": "count", "operator": "lteq", "rightOperand": 100},
                {"leftOperand": "modelContract", "operator": "eq", "rightOperand": "data_provision"},
            ],
        }
    ],
    "prohibition": [{"action": "distribute"}],
    "obligation": [
        {"action": "compensate", "constraint": [{"leftOperand": "payAmount", "operator": "eq", "rightOperand": "500"}]}
    ],
}


def _world(engine: Any) -> tuple[Caller, Caller, str]:
    """A verified entity with a published conditional dataset and its offer, its provider, and a consumer."""
    with session_scope(engine) as session:
        entity = verified_entity(session)
        dataset = Dataset(
            name="bench-negotiation",
            title="基准测试数据集",
            entity_id=entity.id,
            access="conditional",
            state="published",
        )
        provider = Account(name="bench-provider", role=Role.provider, entity_id=entity.id)
        consumer = Account(name="bench-consumer", role=Role.consumer)
        session.add_all([dataset, provider, consumer])
        session.flush()
        offer = DatasetOffer(dataset_id=dataset.id, policy=read_policy(TERMS).document())
        session.add(offer)
        session.commit()
        return (
            Caller(account_id=provider.id, role=Role.provider, entity_id=entity.id),
            Caller(account_id=consumer.id, role=Role.consumer),
            offer.id,
        )


def step_rate(url: str, count: int) -> dict[str, Any]:
    """Walk `count` negotiations from request to finalized; steps per second."""
    engine = make_engine(DatabaseSettings(database_url=url))
    try:
        migrate.upgrade(engine)
        keyring = keys.KeyRing(passphrase=None, require_encrypted=False)
        with session_scope(engine) as session:
            keys.init_keys(session, "registry.example/log", None)
        provider, consumer, offer_id = _world(engine)
        now = datetime.now(UTC).replace(microsecond=0)
        rules = Rules()
        started = time.perf_counter()
        for _ in range(count):
            with session_scope(engine) as session:
                negotiation_id = start_negotiation(bind(session, now, keyring), consumer, Opening(offer_id), rules).id
            for caller, step in ((provider, Step.agree), (consumer, Step.verify), (provider, Step.finalize)):
                with session_scope(engine) as session:
                    take_step(bind(session, now, keyring), caller, negotiation_id, step, rules)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    steps = 4 * count
    return {
        "negotiations": count,
        "steps": steps,
        "seconds": round(seconds, 3),
        "steps_per_second": round(steps / seconds, 1),
    }


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="negotiations to walk on each engine")
    parser.add_argument("--postgres", default=os.environ.get("PDR_BENCH_DATABASE_URL", DEFAULT_POSTGRES))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    result["sqlite"] = step_rate(
        "sqlite:///" + str(Path(tempfile.mkdtemp(prefix="pdr-negotiation-bench-")) / "pdr.db"), args.count
    )
    if args.no_postgres:
        result["postgresql"] = None
    else:
        result["postgresql"] = on_postgres(args.postgres, lambda url: step_rate(url, args.count))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
