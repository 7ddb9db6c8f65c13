"""The labelled search set: a small bilingual catalog, queries with the datasets each should find, and the
recall@20 and precision@20 of the search over it.

The relevance labels were assigned by concept (a dataset's topic, district and publishing department), never by
matching the query's text, so they measure the search rather than restate it. ``bench/search_quality.py`` prints
the figures on both engines; ``test_quality.py`` holds the search to a floor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from catalog.search.query import SearchQuery
from catalog.search.service import search
from storage.db import session_scope
from tests.support.catalog import add_entities, load_packages

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "labelled_corpus.jsonl"
QUERIES = HERE / "labelled_queries.jsonl"
PUBLISHER = "labelled-pub"
DEPTH = 20


@dataclass(frozen=True)
class Labelled:
    """One query, what kind of case it is, and the names of the datasets it should find."""

    q: str
    kind: str
    relevant: frozenset[str]


def corpus() -> list[dict[str, Any]]:
    """The labelled datasets: name, titles, keywords, description and the concepts they were labelled by."""
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def queries() -> list[Labelled]:
    """The labelled queries."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Labelled(row["q"], row["kind"], frozenset(row["relevant"])) for row in rows]


def package(doc: dict[str, Any], position: int) -> dict[str, Any]:
    """A labelled dataset as a CKAN package, published and open."""
    return {
        "name": doc["name"],
        "title": doc["title"],
        "notes": doc["description"],
        "tags": [{"name": k} for k in doc["keywords"]],
        "groups": [{"name": doc["theme"]}],
        "owner_org": PUBLISHER,
        "license_id": "cc-by-4.0",
        "state": "active",
        "metadata_modified": f"2025-03-{1 + position % 28:02d}T{position % 24:02d}:00:00",
        "resources": [],
        "extras": [{"key": "title_en", "value": doc["title_en"]}, {"key": "access", "value": "unconditional"}],
    }


def load(engine: Engine) -> dict[str, str]:
    """Load the labelled catalog into a migrated, empty database; returns dataset ids by name."""
    add_entities(engine, [PUBLISHER])
    load_packages(engine, [package(doc, i) for i, doc in enumerate(corpus())])
    with session_scope(engine) as session:
        rows = session.connection().execute(text("SELECT id, name FROM dataset")).all()
    return {str(name): str(dataset_id) for dataset_id, name in rows}


def answers(engine: Engine, ids: dict[str, str]) -> dict[str, list[str]]:
    """The first page (20) of each labelled query, as dataset names."""
    names = {dataset_id: name for name, dataset_id in ids.items()}
    found: dict[str, list[str]] = {}
    with session_scope(engine, write=False) as session:
        for labelled in queries():
            result = search(session, SearchQuery(q=labelled.q, limit=DEPTH))
            found[labelled.q] = [names[i] for i in result.ids]
    return found


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def figures(found: dict[str, list[str]], labelled: list[Labelled] | None = None) -> dict[str, Any]:
    """recall@20 and precision@20 over the labelled queries, overall and by kind of query.

    recall@20 is the share of a query's relevant datasets in its first 20 results; precision@20 the share of its
    first 20 results (however many there are) that are relevant, a query that finds nothing counting 0.
    """
    labelled = queries() if labelled is None else labelled
    kinds = sorted({x.kind for x in labelled})
    result: dict[str, Any] = {}
    for kind in [None, *kinds]:
        chosen = [x for x in labelled if kind is None or x.kind == kind]
        recalls, precisions = [], []
        for x in chosen:
            top = found[x.q][:DEPTH]
            hits = len(x.relevant.intersection(top))
            recalls.append(hits / len(x.relevant))
            precisions.append(hits / len(top) if top else 0.0)
        result[kind or "all"] = {
            "queries": len(chosen),
            "recall@20": _mean(recalls),
            "precision@20": _mean(precisions),
            "found_nothing": sum(1 for x in chosen if not found[x.q]),
        }
    return result
