"""Throughput of GET /api/v1/me (token check, middleware, audit-free read) against bare FastAPI endpoints: a `def`
route (which pays a thread hop) and an `async def` route (the cheapest FastAPI serves), under the same uvicorn.

Both servers run as single uvicorn processes on 127.0.0.1 in the same run; the load comes from `wrk` when it
is installed (apt-get install wrk), else from a small asyncio client. Prints JSON.

    python bench/api_overhead.py [--seconds 10] [--connections 16] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from support import free_port, wait_until_up

BARE_APP = """
from fastapi import FastAPI

app = FastAPI()


ME = {"id": "01hx", "name": "bench", "role": "consumer", "entity_id": None, "is_active": True,
      "created_at": "2026-11-22T08:00:00Z"}


@app.get("/api/v1/me")
def me() -> dict[str, object]:
    return ME


@app.get("/async/me")
async def async_me() -> dict[str, object]:
    return ME
"""


def run_wrk(url: str, token: str | None, seconds: int, connections: int) -> float:
    """Requests per second measured by wrk."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"non-2xx answers from {url}:\n{output}")
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    assert match, output
    return float(match.group(1))


def run_python_client(url: str, token: str | None, seconds: int, connections: int) -> float:
    """Requests per second from an asyncio client with keep-alive connections."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def main() -> int:
        done = 0
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=connections)) as client:

            async def worker() -> None:
                nonlocal done
                while time.monotonic() < deadline:
                    response = await client.get(url)
                    response.raise_for_status()
                    done += 1

            await asyncio.gather(*(worker() for _ in range(connections)))
        return done

    return asyncio.run(main()) / seconds


def measure(url: str, token: str | None, seconds: int, connections: int) -> float:
    """Warm up, then measure."""
    runner = run_wrk if shutil.which("wrk") else run_python_client
    runner(url, token, 2, connections)
    return runner(url, token, seconds, connections)


def main() -> None:
    """Start both servers, load each in turn, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres", help="run pdr on this PostgreSQL URL instead of SQLite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pdr-bench-"))
    env = {
        **os.environ,
        "PDR_DATABASE_URL": args.postgres or f"sqlite:///{work / 'pdr.db'}",
        "PDR_STORAGE_URL": (work / "objects").as_uri(),
        "PDR_SECRET_KEY": "bench-secret-key",
        "PDR_LOG_LEVEL": "WARNING",
    }
    pdr = [sys.executable, "-m", "catalog.cli"]
    subprocess.run([*pdr, "init"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*pdr, "accounts", "create", f"bench-{os.getpid()}", "--role", "consumer"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    (work / "bare_app.py").write_text(BARE_APP)

    pdr_port, bare_port = free_port(), free_port()
    servers = [
        subprocess.Popen([*pdr, "serve", "--port", str(pdr_port)], env=env, stdout=subprocess.DEVNULL),
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), "--log-level", "warning"],
            cwd=work,
            stdout=subprocess.DEVNULL,
        ),
    ]
    try:
        pdr_url = f"http://127.0.0.1:{pdr_port}/api/v1/me"
        bare_url = f"http://127.0.0.1:{bare_port}/api/v1/me"
        wait_until_up(f"http://127.0.0.1:{pdr_port}/healthz")
        wait_until_up(bare_url)
        assert httpx.get(pdr_url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        bare = measure(bare_url, None, args.seconds, args.connections)
        bare_async = measure(f"http://127.0.0.1:{bare_port}/async/me", None, args.seconds, args.connections)
        me = measure(pdr_url, token, args.seconds, args.connections)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "api_overhead",
                "database": "postgresql" if args.postgres else "sqlite",
                "load_generator": "wrk" if shutil.which("wrk") else "python-asyncio",
                "connections": args.connections,
                "seconds": args.seconds,
                "bare_fastapi_def_rps": round(bare, 1),
                "bare_fastapi_async_rps": round(bare_async, 1),
                "pdr_me_rps": round(me, 1),
                "ratio_to_def": round(me / bare, 3),
                "ratio_to_async": round(me / bare_async, 3),
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
