"""The search page against the JSON API for the same searches, at up to a million datasets. Prints JSON.

    .venv/bin/python bench/portal_search.py                 # quick: 20,000 datasets
    .venv/bin/python bench/portal_search.py --n 1000000     # the catalog and database of bench/search.py, reused

Uses the generated catalog and the loaded SQLite database of `bench/search.py` (made here if missing, kept for the
next run), serves them with `pdr serve` (one worker) on 127.0.0.1, and asks each search of the mix as a page
(`GET /search`, HTML) and through the API (`GET /api/v1/datasets` with the page's five facets and page size), one
after the other, from one HTTP client over one kept-alive connection. A first round warms the server (its search
mirror, the words of the mix) and is not counted; each later round times both kinds of every search.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from search import generate, load, percentile
from support import ROOT, free_port, serve, wait_ready

from storage.db import DatabaseSettings, make_engine

# The page's facets and page size (catalog/portal/search_view.FILTERS, catalog/portal/router.RESULTS_PER_PAGE).
FACETS = "theme,publisher,format,access,licence"
PAGE_SIZE = 20
# (name, the search's parameters); a name ending in "page 2" is asked again with the first page's cursor.
SEARCHES: list[tuple[str, list[tuple[str, str]]]] = [
    ("数据", [("q", "数据")]),
    ("天河区 充电桩", [("q", "天河区 充电桩")]),
    ("番禺区停车场", [("q", "番禺区停车场")]),
    ("监测 + theme", [("q", "监测"), ("theme", "public_services")]),
    ("充电桩 + access + format", [("q", "充电桩"), ("access", "unconditional"), ("format", "CSV")]),
    ("停车 by newest", [("q", "停车"), ("sort", "newest")]),
    ("parking", [("q", "parking"), ("lang", "en")]),
    ("air quality + theme", [("q", "air quality"), ("theme", "public_services"), ("lang", "en")]),
    ("Tianhe 充电桩", [("q", "Tianhe 充电桩")]),
    ("theme + publisher", [("theme", "intelligent_vehicles"), ("publisher", "bench-0300")]),
    ("all by title", [("sort", "title")]),
    ("数据 page 2", [("q", "数据")]),
    ("charging piles page 2", [("q", "charging piles"), ("lang", "en")]),
]


def api_params(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The API's parameters for a search as the page asks it: the page's facets and size, no language."""
    return [(k, v) for k, v in params if k != "lang"] + [("facets", FACETS), ("limit", str(PAGE_SIZE))]


def timed_get(client: httpx.Client, path: str, params: list[tuple[str, str]]) -> tuple[float, httpx.Response]:
    """Seconds to the whole response body, and the response."""
    started = time.perf_counter()
    response = client.get(path, params=params)
    response.read()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response


def checked_searches(client: httpx.Client) -> tuple[list[tuple[str, list[tuple[str, str]]]], dict[str, int]]:
    """The searches, second pages with their cursor; each one's count. Checks the page shows the API's first hit."""
    searches, counts = [], {}
    for name, params in SEARCHES:
        if name.endswith("page 2"):
            first = client.get("/api/v1/datasets", params=api_params(params)).json()
            params = [*params, ("cursor", first["next_cursor"])]
        answer = client.get("/api/v1/datasets", params=api_params(params)).json()
        page = client.get("/search", params=params).text
        assert answer["items"] and f"/datasets/{answer['items'][0]['id']}" in page, name
        searches.append((name, params))
        counts[name] = int(answer["count"])
    return searches, counts


def figures(latencies: list[float]) -> dict[str, float]:
    """p50, p95 and p99 in milliseconds."""
    return {f"p{p}_ms": round(percentile(latencies, p / 100) * 1000, 1) for p in (50, 95, 99)}


def measure(base: str, rounds: int) -> dict[str, Any]:
    """Warm the server, then time the page and the API for every search, `rounds` times."""
    times: dict[str, dict[str, list[float]]] = {"page": {}, "api": {}}
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=900) as client:
        started = time.perf_counter()
        searches, counts = checked_searches(client)
        warm_seconds = time.perf_counter() - started
        for _ in range(rounds):
            for name, params in searches:
                # Page then API, then the next search: both see the same server state and the same connection.
                seconds, response = timed_get(client, "/search", params)
                times["page"].setdefault(name, []).append(seconds)
                sizes[f"page: {name}"] = len(response.content)
                seconds, response = timed_get(client, "/api/v1/datasets", api_params(params))
                times["api"].setdefault(name, []).append(seconds)
                sizes[f"api: {name}"] = len(response.content)
    every = {kind: [t for values in by_name.values() for t in values] for kind, by_name in times.items()}
    result: dict[str, Any] = {"warm_up_seconds": round(warm_seconds, 1), "requests_per_kind": len(every["page"])}
    result.update({kind: figures(values) for kind, values in every.items()})
    result["ratio_page_over_api"] = {
        key.removesuffix("_ms"): round(result["page"][key] / max(result["api"][key], 0.01), 2) for key in result["page"]
    }
    result["per_search_p50_ms"] = {
        name: {kind: round(percentile(times[kind][name], 0.5) * 1000, 1) for kind in times} for name, _ in searches
    }
    result["counts"] = counts
    result["response_bytes"] = sizes
    return result


def main() -> None:
    """Load (or reuse) the catalog, serve it, measure, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="datasets (default 20000)")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench", help="where files and databases live")
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds of the mix (default 10)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"catalog-{args.n}.jsonl"
    if not source.exists():
        generate(source, args.n)
    database = f"sqlite:///{args.data / f'pdr-{args.n}.db'}"
    engine = make_engine(DatabaseSettings(database_url=database))
    loaded = load(engine, source, "sqlite")
    engine.dispose()
    result: dict[str, Any] = {"n": args.n, "cpus": os.cpu_count(), "load": loaded, "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="pdr-bench-") as work:
        env = {
            **os.environ,
            "PDR_DATABASE_URL": database,
            "PDR_STORAGE_URL": (Path(work) / "store").as_uri(),
            "PDR_SECRET_KEY": "bench-secret-key-bench-secret-key-0",
            "PDR_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        server = serve(env, port, log=Path(work) / "pdr.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}", timeout=300)
            result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            result.update(measure(f"http://127.0.0.1:{port}", args.rounds))
            result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
