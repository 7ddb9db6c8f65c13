"""A token revoked through one `pdr serve` process stops working in another one within a second: each process caches
checked tokens for at most that long (auth/token_cache.py)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from auth.token_cache import TTL_SECONDS
from catalog.cli import app as cli
from tests.support.data import bearer
from tests.support.pdr_process import pdr_env, serving_pdr


def _pdr(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_revocation_reaches_another_process_within_a_second(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = pdr_env(database_url, tmp_path)
    for name, value in env.items():
        if name.startswith("PDR_"):
            monkeypatch.setenv(name, value)
    _pdr("init")
    admin = _pdr("accounts", "create", "alice", "--role", "admin").strip().splitlines()[-1]
    with serving_pdr(env, cwd=tmp_path) as first, serving_pdr(env, cwd=tmp_path) as second:
        made = httpx.post(f"{first.url}/api/v1/tokens", json={"name": "script"}, headers=bearer(admin), timeout=30)
        assert made.status_code == 201, made.text
        script = made.json()["token"]
        # The second process checks the token and caches it.
        assert httpx.get(f"{second.url}/api/v1/me", headers=bearer(script), timeout=30).status_code == 200
        revoked = httpx.delete(f"{first.url}/api/v1/tokens/{made.json()['id']}", headers=bearer(admin), timeout=30)
        assert revoked.status_code == 204, revoked.text
        assert httpx.get(f"{first.url}/api/v1/me", headers=bearer(script), timeout=30).status_code == 401
        # Past the cache's second, the second process asks the database again and refuses it.
        time.sleep(TTL_SECONDS)
        assert httpx.get(f"{second.url}/api/v1/me", headers=bearer(script), timeout=30).status_code == 401
