"""PostgreSQL restarted under load: what clients see, and whether any confirmed write is lost. Prints JSON.

    .venv/bin/python bench/outage.py [--postgres URL] [--workers 2] [--clients 8] [--seconds 30] [--restart-at 10]

Runs `pdr serve --workers N` on a schema of its own, with clients that register entities (a write confirmed by
201) and read them back, and restarts the local PostgreSQL cluster (`pg_ctlcluster ... restart`) while they run.
It reports every status seen, the 5xx other than 503 (the aim is none), how long the service answered 503, and
the confirmed writes the database no longer holds afterwards (the aim is none). Restarting the cluster disturbs
everything else using it: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import free_port, pdr, serve, token, uscc, wait_ready


def _entity(serial: int) -> dict[str, object]:
    return {
        "name": f"压测单位{serial}",
        "kind": "data_source",
        "uscc": uscc(serial),
        "contact_name": "张三",
        "contact_phone": "020-12345678",
        "contact_email": "bench@example.gov.cn",
    }


class Load:
    """Client threads writing and reading back until told to stop; every status and confirmed id is kept."""

    def __init__(self, base: str, token: str, clients: int) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clients = clients
        self.statuses: Counter[str] = Counter()
        self.confirmed: list[str] = []
        self.unavailable: list[float] = []
        self.errors: Counter[str] = Counter()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.serial = 0

    def _next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def _note(self, kind: str, status: int) -> None:
        with self.lock:
            self.statuses[f"{kind} {status}"] += 1
            if status == 503:
                self.unavailable.append(time.monotonic())

    def _client(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    created = client.post("/api/v1/entities", json=_entity(self._next_serial()))
                    self._note("write", created.status_code)
                    if created.status_code == 201:
                        entity_id = created.json()["id"]
                        with self.lock:
                            self.confirmed.append(entity_id)
                        self._note("read", client.get(f"/api/v1/entities/{entity_id}").status_code)
                except httpx.HTTPError as exc:  # a refused connection while a worker restarts, say
                    with self.lock:
                        self.errors[type(exc).__name__] += 1
                    time.sleep(0.05)

    def run(self) -> list[threading.Thread]:
        """Start the clients."""
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        return threads


def _restart_postgres() -> float:
    """Restart the local cluster; how long the command took."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    return time.monotonic() - started


def main() -> None:
    """Measure one restart under load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--restart-at", type=float, default=10)
    options = parser.parse_args()

    schema = "bench_outage_" + uuid.uuid4().hex[:8]
    # pre-ping: the restart ends the connection this engine made the schema with.
    admin = create_engine(make_url(options.postgres).set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(options.postgres).set(query={"options": f"-csearch_path={schema}"})
    folder = Path(tempfile.mkdtemp(prefix="pdr-outage-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "PDR_DATABASE_URL": url.render_as_string(hide_password=False),
        "PDR_STORAGE_URL": (folder / "objects").as_uri(),
        "PDR_BASE_URL": base,
    }
    server = None
    try:
        pdr(environment, "init")
        operator = token(environment, "bench-operator", "operator")
        server = serve(environment, port, workers=options.workers, log=folder / "serve.log")
        wait_ready(base)
        load = Load(base, operator, options.clients)
        threads = load.run()
        time.sleep(options.restart_at)
        restart_seconds = _restart_postgres()
        time.sleep(max(0.0, options.seconds - options.restart_at - restart_seconds))
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        wait_ready(base)
        with admin.connect() as connection:
            held = {
                str(row[0])
                for row in connection.execute(text(f'SELECT id FROM "{schema}".entity'))  # noqa: S608 - our own name
            }
        lost = [entity_id for entity_id in load.confirmed if entity_id not in held]
        server_errors = {
            k: n for k, n in load.statuses.items() if k.split()[1].startswith("5") and not k.endswith(" 503")
        }
        window = (max(load.unavailable) - min(load.unavailable)) if load.unavailable else 0.0
        print(
            json.dumps(
                {
                    "workers": options.workers,
                    "clients": options.clients,
                    "seconds": options.seconds,
                    "restart_seconds": round(restart_seconds, 2),
                    "statuses": dict(sorted(load.statuses.items())),
                    "client_errors": dict(load.errors),
                    "server_errors_other_than_503": server_errors,
                    "seconds_answering_503": round(window, 2),
                    "confirmed_writes": len(load.confirmed),
                    "confirmed_writes_lost": len(lost),
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
