"""Stalled uploads against a running service: how many it holds, how it refuses the rest, and whether `/healthz`,
`/api/v1/me` and a search keep answering meanwhile. Prints JSON.

    .venv/bin/python bench/stalled_uploads.py [--stalls 41] [--accounts 1] [--workers 1]

Runs `pdr serve` on an SQLite database of its own with the default upload bounds (PDR_* settings in the
environment apply), opens `--stalls` uploads spread over `--accounts` provider accounts that send their headers
and a few bytes and then go silent, and times the other requests while they hang. Each stall is then either held
(no answer yet: it has a slot) or refused (429 for its account's bound, 503 for the process's).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from support import free_port, serve, token, uscc, wait_ready


def _provider_with_draft(
    client: httpx.Client, environment: dict[str, str], operator: str, serial: int
) -> tuple[str, str]:
    """A provider account of a verified entity with a draft dataset: its token and the dataset's id."""
    provider = token(environment, f"provider-{serial}", "provider")
    mine = {"Authorization": f"Bearer {provider}"}
    body = {"name": f"压测单位{serial}", "kind": "data_source", "uscc": uscc(serial)}
    entity = client.post("/api/v1/entities", headers=mine, json=body).json()
    client.post(f"/api/v1/entities/{entity['id']}/verify", headers={"Authorization": f"Bearer {operator}"})
    dataset = client.post("/api/v1/datasets", headers=mine, json={"title": f"压测数据集{serial}"}).json()
    return provider, dataset["id"]


def _stall(port: int, token: str, dataset_id: str) -> socket.socket:
    """An upload that sends its headers and 1 KiB of a promised 100 MiB, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        (
            f"POST /api/v1/datasets/{dataset_id}/files?name=stalled.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {100 << 20}\r\n\r\n"
        ).encode()
        + b"x" * 1024
    )
    sock.setblocking(False)
    return sock


def _answer(sock: socket.socket) -> str:
    """The status an upload got, or "held" when it has no answer yet."""
    try:
        head = sock.recv(64)
    except BlockingIOError:
        return "held"
    return head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"


def _timings(client: httpx.Client, token: str, rounds: int) -> dict[str, dict[str, float]]:
    """Milliseconds for /healthz, /api/v1/me and a search, each asked `rounds` times."""
    paths = {"/healthz": {}, "/api/v1/me": {"Authorization": f"Bearer {token}"}, "/api/v1/datasets?q=压测": {}}
    found: dict[str, dict[str, float]] = {}
    for path, headers in paths.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            assert client.get(path, headers=headers, timeout=30).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        found[path] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
    return found


def main() -> None:
    """Hold the stalls, time the other requests, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=41)
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pdr-stalls-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "PDR_DATABASE_URL": f"sqlite:///{folder / 'pdr.db'}",
        "PDR_STORAGE_URL": (folder / "objects").as_uri(),
        "PDR_BASE_URL": base,
    }
    server = serve(environment, port, workers=options.workers, log=folder / "serve.log")
    sockets: list[socket.socket] = []
    try:
        wait_ready(base)
        with httpx.Client(base_url=base, timeout=30) as client:
            operator = token(environment, "operator", "operator")
            providers = [_provider_with_draft(client, environment, operator, n + 1) for n in range(options.accounts)]
            quiet = _timings(client, providers[0][0], options.rounds)
            for n in range(options.stalls):
                sockets.append(_stall(port, *providers[n % len(providers)]))
            time.sleep(1.0)
            stalled = _timings(client, providers[0][0], options.rounds)
            answers = Counter(_answer(sock) for sock in sockets)
        print(
            json.dumps(
                {
                    "stalls": options.stalls,
                    "accounts": options.accounts,
                    "workers": options.workers,
                    "answers": dict(sorted(answers.items())),
                    "quiet": quiet,
                    "while_stalled": stalled,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    finally:
        for sock in sockets:
            sock.close()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
