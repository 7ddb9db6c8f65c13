"""The `pdr` command line: migrations and account creation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from catalog.app import create_app
from catalog.cli import app as cli
from catalog.settings import Settings
from tests.support.env import TEST_SECRET
from tests.support.pdr_process import pdr_env, run_pdr


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the test's database through the environment, as an operator would."""
    monkeypatch.setenv("PDR_DATABASE_URL", database_url)
    monkeypatch.setenv("PDR_STORAGE_URL", "file://" + str(tmp_path / "objects"))
    monkeypatch.setenv("PDR_SECRET_KEY", TEST_SECRET)
    return Settings()


def test_db_upgrade_then_current(cli_env: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "current"]).exit_code == 1
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "0001_foundation" in result.output or "revision" in result.output
    assert runner.invoke(cli, ["db", "current"]).exit_code == 0


def test_accounts_create_prints_the_token_last(cli_env: Settings) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["db", "upgrade"])
    result = runner.invoke(cli, ["accounts", "create", "ops1", "--role", "operator"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pdr_")
    with TestClient(create_app(cli_env)) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["role"] == "operator"


def test_accounts_create_refuses_bad_input(cli_env: Settings) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["db", "upgrade"])
    assert runner.invoke(cli, ["accounts", "create", "x1", "--role", "king"]).exit_code != 0
    unknown_entity = runner.invoke(cli, ["accounts", "create", "p1", "--role", "provider", "--entity", "nope"])
    assert unknown_entity.exit_code == 1
    assert "entity" in unknown_entity.output
    runner.invoke(cli, ["accounts", "create", "dup", "--role", "consumer"])
    assert runner.invoke(cli, ["accounts", "create", "dup", "--role", "consumer"]).exit_code == 1


def test_production_mode_refuses_to_run_commands(cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDR_ENV", "production")
    monkeypatch.delenv("PDR_SECRET_KEY")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 2


def test_registry_tick_completes_ended_notices(cli_env: Settings) -> None:
    from datetime import date, timedelta

    from fastapi.testclient import TestClient

    from auth.roles import Role
    from storage.db import make_engine
    from tests.support.data import FakeClock, bearer, entity_body, make_account, resource_body

    runner = CliRunner()
    runner.invoke(cli, ["db", "upgrade"])
    keys_init = runner.invoke(cli, ["keys", "init"])
    assert "log verifier key: " in keys_init.output
    engine = make_engine(cli_env.db)
    _, operator = make_account(engine, cli_env.auth, Role.operator)
    _, provider = make_account(engine, cli_env.auth, Role.provider)
    engine.dispose()
    app = create_app(cli_env)
    clock = FakeClock(date.today() - timedelta(days=40))
    app.state.clock = clock
    with TestClient(app) as client:
        entity = client.post("/api/v1/entities", json=entity_body(7), headers=bearer(provider)).json()
        client.post(f"/api/v1/entities/{entity['id']}/verify", headers=bearer(operator))
        resource = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider)).json()
        reg = client.post(
            "/api/v1/registrations",
            json={"type": "first", "subject": {"resource_id": resource["id"]}},
            headers=bearer(provider),
        ).json()
        client.post(f"/api/v1/registrations/{reg['id']}/submit", headers=bearer(provider))
        client.post(f"/api/v1/registrations/{reg['id']}/accept", headers=bearer(operator))
        assert (
            client.post(f"/api/v1/registrations/{reg['id']}/pass-review", headers=bearer(operator)).json()["state"]
            == "notice"
        )
    result = runner.invoke(cli, ["registry", "tick"])  # the real clock: the notice ended weeks ago
    assert result.exit_code == 0, result.output
    assert f"registered {reg['id']}" in result.output
    assert "1 registration(s) completed" in result.output
    assert "0 registration(s)" in runner.invoke(cli, ["registry", "tick"]).output


# Run in a new interpreter: this one has imported the whole service already.
_HELP_IMPORTS = """
import sys
from catalog.cli import app
try:
    app(args=sys.argv[1:])
except SystemExit:
    pass
roots = {"sqlalchemy", "sqlmodel", "fastapi", "pydantic_settings", "minio", "registry", "storage"}
modules = {"catalog.settings", "catalog.operations.common"}
heavy = sorted(name for name in sys.modules if name.split(".")[0] in roots or name in modules)
print("HEAVY", heavy)
"""


@pytest.mark.parametrize("args", [["--help"], ["accounts", "create", "--help"], ["serve", "--bogus"]])
def test_help_and_usage_errors_import_none_of_the_service(args: list[str]) -> None:
    ran = subprocess.run([sys.executable, "-c", _HELP_IMPORTS, *args], capture_output=True, text=True, check=True)
    assert "HEAVY []" in ran.stdout, ran.stdout + ran.stderr
    assert "Usage" in ran.stdout + ran.stderr


# `pdr serve` with the exec that replaces the process caught, in a new interpreter.
_SERVE_EXEC = """
import os, sys
os.execv = lambda path, argv: print("EXEC", path == sys.executable, argv[1:])
if sys.argv[1] == "script":
    sys.path[0] = os.path.dirname(sys.executable)  # as the `pdr` script starts: its folder, not the working one
from catalog.cli import app
try:
    app(args=["serve", "--host", "0.0.0.0", "--port", "9001", "--workers", "3"])
except SystemExit:
    pass
print("SERVICE", sorted(name for name in sys.modules if name.split(".")[0] in {"sqlalchemy", "fastapi", "registry"}))
"""


@pytest.mark.parametrize(("started_as", "flags"), [("script", "'-P', "), ("module", "")])
def test_serve_replaces_its_process_by_the_serving_program_before_loading_the_service(
    started_as: str, flags: str
) -> None:
    ran = subprocess.run([sys.executable, "-c", _SERVE_EXEC, started_as], capture_output=True, text=True, check=True)
    program = f"[{flags}'-m', 'catalog.operations.serving', '0.0.0.0', '9001', '3']"
    assert f"EXEC True {program}" in ran.stdout, ran.stdout + ran.stderr
    assert "SERVICE []" in ran.stdout


def test_a_command_on_a_database_never_migrated_says_so_without_sql(cli_env: Settings) -> None:
    result = CliRunner().invoke(cli, ["accounts", "create", "alice", "--role", "admin"])
    assert result.exit_code == 1
    assert "the database cannot be used" in result.output and "pdr init" in result.output
    assert "SELECT" not in result.output and "alice" not in result.output


def test_accounts_are_created_by_a_process_of_their_own(database_url: str, tmp_path: Path) -> None:
    # A new interpreter imports only what the command needs: the tables must still all be declared.
    env = pdr_env(database_url, tmp_path)
    assert run_pdr(env, "init", cwd=tmp_path).returncode == 0
    created = run_pdr(env, "accounts", "create", "alice", "--role", "admin", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("pdr_")
