"""Search quality on the labelled set (tests/catalog/search/labelled_*.jsonl): recall@20 and precision@20 of
every query, on SQLite and on PostgreSQL, printed as JSON.

    .venv/bin/python bench/search_quality.py
    .venv/bin/python bench/search_quality.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test --misses

Each run loads the labelled catalog into a new SQLite file and a new PostgreSQL schema (search_quality).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import migrate  # noqa: E402
from storage.db import DatabaseSettings, make_engine  # noqa: E402
from tests.catalog.search import labelled  # noqa: E402

SCHEMA = "search_quality"


def postgres_engine(url: str) -> Engine:
    """An engine on a schema of its own, emptied first."""
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    parsed = make_url(url)
    scoped = parsed.set(query={**dict(parsed.query), "options": f"-csearch_path={SCHEMA}"})
    return make_engine(DatabaseSettings(database_url=scoped.render_as_string(hide_password=False)))


def measure(engine: Engine, misses: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Load the labelled catalog, run every query, and compute the figures (and, if asked, the misses)."""
    migrate.upgrade(engine)
    ids = labelled.load(engine)
    found = labelled.answers(engine, ids)
    result = labelled.figures(found)
    if misses:
        result["misses"] = {
            x.q: {
                "missed": sorted(x.relevant - set(found[x.q])),
                "extra": [n for n in found[x.q] if n not in x.relevant],
            }
            for x in labelled.queries()
            if not x.relevant <= set(found[x.q]) or set(found[x.q]) - x.relevant
        }
    return result, found


def main() -> None:
    """Measure on SQLite, and on PostgreSQL when a URL is given; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL URL; the schema search_quality is recreated in it")
    parser.add_argument("--misses", action="store_true", help="list each query's missed and extra datasets")
    args = parser.parse_args()
    result: dict[str, Any] = {"queries": len(labelled.queries()), "datasets": len(labelled.corpus())}
    answers: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(DatabaseSettings(database_url=f"sqlite:///{Path(folder) / 'quality.db'}"))
        result["sqlite"], answers["sqlite"] = measure(engine, args.misses)
        engine.dispose()
    if args.postgres:
        engine = postgres_engine(args.postgres)
        result["postgresql"], answers["postgresql"] = measure(engine, args.misses)
        engine.dispose()
        result["engines_agree"] = answers["sqlite"] == answers["postgresql"]
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
