"""The production topology as local processes: a fresh PostgreSQL database, an S3-compatible server (moto), N pdr
workers and nginx (the shipped deploy/nginx.conf, with a self-signed certificate) in front, on loopback ports.

    .venv/bin/python -m deploy.topology [--workers 2] [--postgres URL]

prints the base URL and the certificate to trust, and takes everything down again (the processes it started and
the database it made) on Ctrl-C or SIGTERM. Tests and benchmarks use `topology()` as a context manager.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from minio import Minio
from sqlalchemy.engine import make_url

from deploy import local_nginx

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
S3_KEY, S3_SECRET, S3_REGION, BUCKET = "topology-access", "topology-secret-key", "us-east-1", "pdr"
START_SECONDS = 120


@dataclass(frozen=True)
class Topology:
    """A running topology: its public URL (nginx), the certificate to trust, and the settings its workers run with."""

    base_url: str
    certificate: Path
    env: dict[str, str]
    worker_url: str
    # For fault injection: the `pdr serve` supervisor (its workers are its children) and the S3 server.
    server_pid: int = 0
    s3_pid: int = 0

    def pdr(self, *args: str) -> str:
        """Run a `pdr` command against the topology's database and store; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "catalog.cli", *args], env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pdr {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout


def _wait(what: str, ready: object, process: subprocess.Popen[bytes]) -> None:
    """Poll `ready()` until it is true; fail at once if the process died, or after START_SECONDS."""
    assert callable(ready)
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready in {START_SECONDS} s")
        time.sleep(0.2)


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process writing to `log`, terminated (then killed) when the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of `admin_url`, dropped again when the block ends; yields its URL."""
    url = make_url(admin_url)
    name = f"pdr_topology_{secrets.token_hex(6)}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def s3_server(work: Path) -> Iterator[tuple[str, int]]:
    """moto's S3 server on a free port with the bucket made; yields host:port and its process id."""
    port = local_nginx.free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with started(command, dict(os.environ), work / "s3.log") as process:
        _wait("the S3 server", lambda: local_nginx.accepts(port), process)
        endpoint = f"127.0.0.1:{port}"
        Minio(endpoint, S3_KEY, S3_SECRET, secure=False, region=S3_REGION).make_bucket(BUCKET)
        yield endpoint, process.pid


def _settings(database_url: str, endpoint: str, base_url: str, extra: dict[str, str]) -> dict[str, str]:
    """The workers' environment: production-like, on the topology's database and store."""
    return {
        **os.environ,
        "PDR_DATABASE_URL": database_url,
        "PDR_STORAGE_URL": f"s3://{BUCKET}/objects?endpoint={endpoint}&secure=false",
        "PDR_S3_ACCESS_KEY": S3_KEY,
        "PDR_S3_SECRET_KEY": S3_SECRET,
        "PDR_S3_REGION": S3_REGION,
        "PDR_BASE_URL": base_url,
        "PDR_SECRET_KEY": secrets.token_urlsafe(32),
        "PDR_KEY_PASSPHRASE": secrets.token_urlsafe(32),
        "PDR_LOG_FORMAT": "json",
        "PDR_ENV": "production",
        **extra,
    }


@contextmanager
def topology(
    *, workers: int = 2, postgres: str = DEFAULT_POSTGRES, settings: dict[str, str] | None = None
) -> Iterator[Topology]:
    """Bring the topology up, yield it, and take it down again."""
    nginx = local_nginx.nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pdr-topology-")))
        database_url = stack.enter_context(fresh_database(postgres))
        endpoint, s3_pid = stack.enter_context(s3_server(work))
        worker_port = local_nginx.free_port()
        rendered = local_nginx.render(work, upstream_port=worker_port, store_root=work / "no-local-objects")
        base_url = f"https://127.0.0.1:{rendered.port}"
        env = _settings(database_url, endpoint, base_url, settings or {})
        worker_url = f"http://127.0.0.1:{worker_port}"
        Topology(base_url, rendered.certificate, env, worker_url).pdr("init")
        serve = [sys.executable, "-m", "catalog.cli", "serve", "--port", str(worker_port), "--workers", str(workers)]
        process = stack.enter_context(started(serve, env, work / "pdr.log"))
        wait_ready(worker_url, process)
        stack.enter_context(local_nginx.running(nginx, rendered))
        yield Topology(base_url, rendered.certificate, env, worker_url, process.pid, s3_pid)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until the pdr at `url` (started as `process`) says it is ready."""
    _wait("pdr", lambda: _ready(url), process)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Bring the topology up with an admin account, and keep it until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("PDR_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    args = parser.parse_args()
    # SIGTERM ends the wait below like Ctrl-C, so the processes and the database are cleaned up either way.
    signal.signal(signal.SIGTERM, _interrupt)
    with topology(workers=args.workers, postgres=args.postgres) as up:
        token = up.pdr("accounts", "create", "admin", "--role", "admin").strip().splitlines()[-1]
        print(f"pdr at {up.base_url}, {args.workers} workers behind nginx; trust {up.certificate}")
        print(f"admin token (this topology only): {token}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("taking the topology down", flush=True)


if __name__ == "__main__":
    main()
