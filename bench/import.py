"""Bulk import benchmark: N generated datasets (``search.py``'s catalog) into a new catalog on SQLite and on
PostgreSQL through the path ``pdr catalog import`` takes; datasets a second, with the machine's load. Prints JSON.

    .venv/bin/python bench/import.py --n 100000
    .venv/bin/python bench/import.py --n 1000000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Each run loads from scratch: the SQLite file ``var/bench/import-N.db`` is made anew, and on PostgreSQL a scratch
schema, dropped afterwards. ``--again`` imports the same file a second time into the loaded catalog (every record
an update).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from search import generate, prepare
from sqlalchemy import Engine, text
from support import ROOT, postgres_schema

from auth.caller import Caller
from auth.roles import Role
from catalog.interop import importer
from storage.db import DatabaseSettings, make_engine


def postgres_cpu_seconds() -> float:
    """CPU time used so far by every PostgreSQL process on this machine (the server's share of the work)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_import(engine: Engine, source: Path, batch_size: int) -> dict[str, Any]:
    """Import the file once; the rate, the time, and the CPU this process and PostgreSQL spent."""
    load_before = os.getloadavg()
    started, cpu, server = time.perf_counter(), time.process_time(), postgres_cpu_seconds()
    report = importer.import_file(
        engine, source, caller=Caller(name="bench", role=Role.admin), batch_size=batch_size, progress=False
    )
    seconds = time.perf_counter() - started
    written = report.created + report.updated
    result = {
        "created": report.created,
        "updated": report.updated,
        "failed": report.failed,
        "seconds": round(seconds, 1),
        "per_second": round(written / seconds),
        "importing_process_cpu_us_per_dataset": round((time.process_time() - cpu) / written * 1e6),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    if engine.dialect.name == "postgresql":
        result["postgres_cpu_us_per_dataset"] = round((postgres_cpu_seconds() - server) / written * 1e6)
    with engine.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM dataset")).scalar_one()
        entries = connection.execute(text("SELECT count(*) FROM dataset_fts")).scalar_one()
    result["datasets_held"], result["full_text_entries"] = int(held), int(entries)
    return result


def fresh_sqlite(path: Path) -> Engine:
    """An engine on a new SQLite file at path."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return make_engine(DatabaseSettings(database_url=f"sqlite:///{path}"))


def measure(engine: Engine, source: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The import into a new catalog on this engine, and again into the loaded one when asked."""
    prepare(engine)
    figures = {"import": run_import(engine, source, args.batch_size)}
    if args.again:
        figures["again"] = run_import(engine, source, args.batch_size)
    engine.dispose()
    return figures


def main() -> None:
    """Run the benchmark and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="datasets to import (default 100000)")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench", help="where files and databases live")
    parser.add_argument("--postgres", help="PostgreSQL URL; a scratch schema is used")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--batch-size", type=int, default=1000, help="records a transaction (default 1000)")
    parser.add_argument("--again", action="store_true", help="import the same file again into the loaded catalog")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"catalog-{args.n}.jsonl"
    if not source.exists():
        generate(source, args.n)
    result: dict[str, Any] = {"n": args.n, "cpus": os.cpu_count(), "batch_size": args.batch_size}
    if not args.no_sqlite:
        result["sqlite"] = measure(fresh_sqlite(args.data / f"import-{args.n}.db"), source, args)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            result["postgresql"] = measure(make_engine(DatabaseSettings(database_url=url)), source, args)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
