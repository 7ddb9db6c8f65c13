"""The app's own time for GET /api/v1/me, called through ASGI in this process with no server and no network,
against a bare FastAPI `async def` route called the same way.

Steadier than `api_overhead.py` on a shared machine (no load generator and no server competing for the two
cores), so it is the one to compare two versions of the code with; `api_overhead.py` gives the throughput the
issue's aim is stated in. Prints JSON.

    python bench/me_in_process.py [--requests 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from support import pdr, token

from catalog.app import create_app
from catalog.settings import Settings

Scope = dict[str, Any]


def _scope(path: str, bearer: str | None) -> Scope:
    headers = [(b"host", b"bench")]
    if bearer:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip


async def _best_microseconds(app: Any, scope: Scope, requests: int, runs: int) -> float:
    """The best of `runs` runs of `requests` calls, in microseconds a call; every answer must be a 200."""
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def run(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - started) / count

    await run(requests // 2)  # warm: the token cache, the route's first compilation
    best = min([await run(requests) for _ in range(runs)])
    if statuses != {200}:
        raise RuntimeError(f"answers other than 200: {sorted(statuses)}")
    return best * 1e6


async def _measure(requests: int, runs: int, bearer: str) -> dict[str, float]:
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/async/me")
    async def async_me() -> dict[str, object]:
        return {"id": "01hx", "name": "bench", "role": "consumer", "entity_id": None, "is_active": True}

    app = create_app(Settings())
    startup: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, startup.get, lifespan_send)
    )
    await startup.put({"type": "lifespan.startup"})
    await started.wait()
    try:
        me = await _best_microseconds(app, _scope("/api/v1/me", bearer), requests, runs)
        reference = await _best_microseconds(bare, _scope("/async/me", None), requests, runs)
    finally:
        await startup.put({"type": "lifespan.shutdown"})
        await lifespan
    return {"pdr_me_us": round(me, 1), "bare_async_us": round(reference, 1), "ratio": round(reference / me, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pdr-bench-"))
    settings = {
        "PDR_DATABASE_URL": f"sqlite:///{work / 'pdr.db'}",
        "PDR_STORAGE_URL": (work / "objects").as_uri(),
        "PDR_SECRET_KEY": "bench-secret-key-bench-secret-key-0",
        "PDR_LOG_LEVEL": "WARNING",
    }
    env = {**os.environ, **settings}
    pdr(env, "init")
    bearer = token(env, "bench", "consumer")
    os.environ.update(settings)
    logging.disable(logging.WARNING)
    result = asyncio.run(_measure(args.requests, args.runs, bearer))
    print(json.dumps({"benchmark": "me_in_process", "requests": args.requests, "runs": args.runs, **result}, indent=2))


if __name__ == "__main__":
    main()
