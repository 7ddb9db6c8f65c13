"""`pdr init` and `pdr serve` as the README and deploy/ run them: every documented path ends in a service whose
registry writes succeed, and `pdr serve` refuses to start, naming the fix, where they would answer 503."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from catalog.cli import app as cli
from tests.support.data import bearer, entity_body
from tests.support.env import POSTGRES_URL
from tests.support.live import free_port
from tests.support.pdr_process import pdr_env, run_pdr, serving_pdr

# Keys made under one passphrase, then a service started with another: what a mistyped secret looks like.
PASSPHRASE = "a-passphrase-of-the-test-run-7d1c"
OTHER_PASSPHRASE = "another-passphrase-of-the-test-9e2f"


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An operator's shell on the test's empty database: the environment of `pdr` processes, and of this one."""
    env = pdr_env(database_url, tmp_path)
    _export(env, monkeypatch)
    return env


def _export(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The commands other than `serve` run in this process (quicker than starting one), on the same settings.
    for name, value in env.items():
        if name.startswith("PDR_"):
            monkeypatch.setenv(name, value)


def _pdr(*args: str) -> str:
    """Run a `pdr` command in this process; its output, once it has succeeded."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _admin_token() -> str:
    return _pdr("accounts", "create", "alice", "--role", "admin").strip().splitlines()[-1]


def _registry_write(url: str, token: str) -> int:
    """Register an entity and verify it (a signed transparency-log entry); the status of the verification."""
    created = httpx.post(f"{url}/api/v1/entities", json=entity_body(1), headers=bearer(token), timeout=30)
    assert created.status_code == 201, created.text
    verified = httpx.post(f"{url}/api/v1/entities/{created.json()['id']}/verify", headers=bearer(token), timeout=30)
    return verified.status_code


def test_init_migrates_and_creates_the_keys_and_is_safe_to_repeat(cli_env: dict[str, str]) -> None:
    first = _pdr("init")
    assert "database at revision" in first
    assert "created the log key" in first and "created the issuer key" in first
    again = _pdr("init")
    assert "the keys exist already" in again and "created" not in again
    verifier = [line for line in first.splitlines() if line.startswith("log verifier key: ")]
    assert verifier and verifier[0] in again.splitlines()
    _pdr("db", "current")  # exits 1 unless the schema is at the newest revision


def test_init_then_serve_with_workers_answers_registry_writes(cli_env: dict[str, str], tmp_path: Path) -> None:
    _pdr("init")
    token = _admin_token()
    with serving_pdr(cli_env, "--workers", "2", cwd=tmp_path) as served:
        assert _registry_write(served.url, token) == 200


def test_the_embedded_quickstart_prepares_its_own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's first command: nothing but `pdr serve` on the defaults, in a fresh folder.
    env = pdr_env(None, tmp_path)
    _export(env, monkeypatch)
    monkeypatch.chdir(tmp_path)
    with serving_pdr(env, cwd=tmp_path) as served:
        assert _registry_write(served.url, _admin_token()) == 200
    assert (tmp_path / "var" / "pdr.db").exists()


# What `pdr serve` runs on a new embedded database before it serves; then whether the schema is current, and the
# modules the serving process holds.
_FIRST_START = (
    "import sys; from catalog.operations import common, serving; from storage import migrate; "
    "settings = common.settings(); engine = common.engine(settings).__enter__(); "
    "serving.prepare_embedded(engine, settings); print(migrate.is_current(engine)); print(*sys.modules)"
)


def test_a_first_embedded_start_migrates_in_a_child_and_serves_without_alembic(tmp_path: Path) -> None:
    env = pdr_env(f"sqlite:///{tmp_path / 'pdr.db'}", tmp_path)
    ran = subprocess.run(
        [sys.executable, "-c", _FIRST_START], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    current, modules = ran.stdout.splitlines()[-2:]
    assert current == "True", ran.stdout + ran.stderr
    assert "catalog.app" in modules.split()
    assert "alembic" not in modules.split()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL: on SQLite `pdr serve` runs `pdr init` itself")
def test_serve_refuses_to_start_without_init_and_names_it(cli_env: dict[str, str], tmp_path: Path) -> None:
    port = str(free_port())
    behind = run_pdr(cli_env, "serve", "--port", port, cwd=tmp_path)
    assert behind.returncode == 1
    assert "pdr init" in behind.stderr and "schema" in behind.stderr

    # The path that used to end in 503s: the migrations alone, then `pdr serve`.
    _pdr("db", "upgrade")
    no_keys = run_pdr(cli_env, "serve", "--port", port, "--workers", "2", cwd=tmp_path)
    assert no_keys.returncode == 1
    assert "no signing keys" in no_keys.stderr and "pdr init" in no_keys.stderr


def test_serve_refuses_keys_the_passphrase_does_not_open(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDR_KEY_PASSPHRASE", PASSPHRASE)
    _pdr("init")
    wrong = {**cli_env, "PDR_KEY_PASSPHRASE": OTHER_PASSPHRASE}
    refused = run_pdr(wrong, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert refused.returncode == 1
    assert "cannot be opened" in refused.stderr and "PDR_KEY_PASSPHRASE" in refused.stderr


def test_init_and_serve_name_a_database_they_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = f"postgresql+psycopg://pdr@127.0.0.1:{free_port()}/pdr"
    env = pdr_env(nowhere, tmp_path, PDR_DATABASE_CONNECT_TIMEOUT_SECONDS="5")
    _export(env, monkeypatch)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 1
    assert "the database cannot be used: not reachable" in result.output
    refused = run_pdr(env, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert refused.returncode == 1
    assert "refusing to start: the database cannot be used: not reachable" in refused.stderr
