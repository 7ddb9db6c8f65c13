"""Fuzz the live service over its own OpenAPI with schemathesis, as an admin and anonymously.

Runs `pdr serve` on a fresh database of its own (a PostgreSQL schema when a URL is given, else an SQLite file) on a
free local port, then runs schemathesis against /openapi.json. Any server error, response that breaks its
documented schema, or status code the document does not list fails the run (exit 1).

    python .ci/fuzz.py [--postgres URL] [--examples N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _database(postgres: str | None, folder: Path) -> Iterator[str]:
    """A database URL of the run's own: a new PostgreSQL schema (dropped afterwards), or an SQLite file."""
    if not postgres:
        yield f"sqlite:///{folder / 'pdr.db'}"
        return
    schema = "fuzz_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(postgres).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres).set(query={"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _pdr(environment: dict[str, str], *args: str) -> str:
    """Run a `pdr` command; its standard output."""
    done = subprocess.run([str(BIN / "pdr"), *args], env=environment, capture_output=True, text=True, check=True)
    return done.stdout


@contextmanager
def _service(environment: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`pdr serve` on a local port until the block ends; its base URL once /readyz answers."""
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "pdr"), "serve", "--port", str(port)], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=2):  # noqa: S310 - our own local URL
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"pdr serve did not start; see {log}") from None
                    time.sleep(0.3)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def _schemathesis(base: str, examples: int, report: Path, header: str | None) -> int:
    """One schemathesis run; its exit status."""
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(examples),
        "--seed",
        "20261130",
        # One worker: Hypothesis parses lambda sources with Python's AST, which is not thread-safe on 3.11.
        "--workers",
        "1",
        "--no-color",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if header:
        command += ["--header", header]
    return subprocess.run(command, check=False).returncode


def main() -> int:
    """Fuzz as an admin, then anonymously; 0 when neither run found anything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL; the run uses a schema of its own")
    parser.add_argument("--examples", type=int, default=25, help="test cases per operation and run")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pdr-fuzz-"))
    port = _free_port()
    try:
        with _database(options.postgres, folder) as url:
            environment = {
                **os.environ,
                "PDR_DATABASE_URL": url,
                "PDR_STORAGE_URL": (folder / "objects").as_uri(),
                "PDR_BASE_URL": f"http://127.0.0.1:{port}",
                "PDR_SEARCH_WARM_UP": "false",
            }
            _pdr(environment, "db", "upgrade")
            _pdr(environment, "keys", "init")
            token = _pdr(environment, "accounts", "create", "fuzz-admin", "--role", "admin").strip().splitlines()[-1]
            with _service(environment, port, folder / "serve.log") as base:
                failed = _schemathesis(base, options.examples, folder / "admin.xml", f"Authorization: Bearer {token}")
                failed |= _schemathesis(base, options.examples, folder / "anonymous.xml", None)
    except BaseException:
        print(f"service log: {folder / 'serve.log'}", file=sys.stderr)
        raise
    if failed:
        print(f"schemathesis found failures; the service log is {folder / 'serve.log'}", file=sys.stderr)
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
