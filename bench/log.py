"""Transparency-log throughput and proof latency: appends per second with batching, then inclusion proofs.

Fills a fresh log to --entries leaves in batches (each batch: one transaction, one signed checkpoint), then
times inclusion proofs for random leaves against the latest checkpoint. Prints JSON.

    python bench/log.py [--entries 1000000] [--batch 500] [--postgres URL] [--proofs 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support import postgres_schema

from registry import keys, log
from registry.context import bind
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope


def main() -> None:
    """Fill the log, then measure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--postgres", help="PostgreSQL URL (a throwaway schema is created); SQLite otherwise")
    args = parser.parse_args()

    with ExitStack() as scratch:
        if args.postgres:
            url = scratch.enter_context(postgres_schema(args.postgres))
        else:
            url = "sqlite:///" + str(Path(tempfile.mkdtemp(prefix="pdr-log-bench-")) / "log.db")
        measured = measure(url, args)
    print(json.dumps(measured, indent=2))


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fill a log on `url` to the entries asked for, then time inclusion proofs."""
    engine = make_engine(DatabaseSettings(database_url=url))
    migrate.upgrade(engine)
    keyring = keys.KeyRing(passphrase=None, require_encrypted=False)
    with session_scope(engine) as session:
        keys.init_keys(session, "bench.example/log", None)

    body = {"registration_id": "01jbench", "type": "first", "from": "accepted", "to": "notice", "名称": "充电桩数据"}
    appended = 0
    started = time.perf_counter()
    while appended < args.entries:
        count = min(args.batch, args.entries - appended)
        now = datetime.now(UTC)
        events = [log.Event("bench.event", f"bench:{appended + i}", body, now) for i in range(count)]
        with session_scope(engine) as session:
            bind(session, now, keyring)
            log.append(session, keyring, events)
            session.commit()
        appended += count
    append_seconds = time.perf_counter() - started

    latencies = []
    with session_scope(engine, write=False) as session:
        size = log.signed_size(session)
        for _ in range(args.proofs):
            index = random.randrange(size)
            t0 = time.perf_counter()
            log.inclusion(session, index, size)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    engine.dispose()
    return {
        "benchmark": "log",
        "database": "postgresql" if args.postgres else "sqlite",
        "entries": appended,
        "batch": args.batch,
        "appends_per_second": round(appended / append_seconds, 1),
        "inclusion_proof_ms": {
            "p50": round(statistics.median(latencies), 3),
            "p99": round(latencies[int(len(latencies) * 0.99) - 1], 3),
            "max": round(latencies[-1], 3),
            "samples": len(latencies),
        },
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
