"""What the benchmark scripts share: the repository's packages on the import path, free ports, waiting for a
server, the `pdr` command, accounts, valid USCCs, and a fresh embedded pdr to measure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.local_nginx import free_port  # noqa: E402
from registry.uscc import check_character  # noqa: E402

__all__ = ["ROOT", "free_port", "pdr", "serve", "start_embedded", "token", "uscc", "wait_ready", "wait_until_up"]


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    """Poll until a server answers at `url` (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wait_ready(base: str, timeout: float = 90.0) -> None:
    """Poll until the pdr at `base` says it is ready (`/readyz` answers 200)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not become ready")


def serve(env: dict[str, str], port: int, *, workers: int = 1, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`pdr serve` on `port` with these settings, its output to `log` (or this process's)."""
    command = [sys.executable, "-m", "catalog.cli", "serve", "--port", str(port), "--workers", str(workers)]
    if log is None:
        return subprocess.Popen(command, env=env)
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def pdr(env: dict[str, str], *args: str) -> str:
    """Run a `pdr` command with these settings; its standard output."""
    command = [sys.executable, "-m", "catalog.cli", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def token(env: dict[str, str], name: str, role: str) -> str:
    """A new account's API token (the last line `pdr accounts create` prints)."""
    return pdr(env, "accounts", "create", name, "--role", role).strip().splitlines()[-1]


def uscc(serial: int) -> str:
    """A distinct valid USCC of an entity in Guangzhou (region 440100)."""
    first17 = f"91440100{serial:09d}"
    return first17 + check_character(first17)


def start_embedded(work: Path, **settings: str) -> tuple[subprocess.Popen[bytes], dict[str, str], str]:
    """A fresh pdr on SQLite and a file store in `work`, on a free port; its process, settings and base URL."""
    env = {
        **os.environ,
        "PDR_DATABASE_URL": f"sqlite:///{work / 'pdr.db'}",
        "PDR_STORAGE_URL": (work / "store").as_uri(),
        "PDR_SECRET_KEY": "bench-secret-key-bench-secret-key-0",
        "PDR_LOG_LEVEL": "WARNING",
        **settings,
    }
    pdr(env, "init")
    port = free_port()
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", timeout=60)
    return server, env, base


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A database URL on a fresh schema of the server, dropped afterwards: a bench never touches real data."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = make_url(url)
    try:
        yield parsed.set(query={**parsed.query, "options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def on_postgres(url: str, measure: Callable[[str], Any]) -> Any:
    """`measure` run on a fresh schema of the server at `url`, or, when the server cannot be reached, why not."""
    from sqlalchemy.exc import OperationalError

    try:
        with postgres_schema(url) as scratch:
            return measure(scratch)
    except OperationalError as exc:  # no server: say so rather than fail the whole run
        return {"error": f"PostgreSQL unavailable: {type(exc).__name__}"}


def verified_entity(session: Any) -> Any:
    """A verified entity in Guangzhou, written straight into its table and flushed (benches time what follows)."""
    from registry.models import Entity

    entity = Entity(
        name="广州市基准测试数据局",
        kind="data_source",
        uscc="91110108551385082Q",
        region_code="440100",
        status="verified",
    )
    session.add(entity)
    session.flush()
    return entity
