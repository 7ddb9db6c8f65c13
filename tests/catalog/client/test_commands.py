"""`pdrc` driven as a user drives it, against a real server: sign in, search, show, download, upload, publish,
apply for access, list grants and downloads, verify a certificate; each failure with its documented exit code."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from auth.roles import Role
from catalog.client.cli import app as pdrc
from catalog.settings import Settings
from tests.plugins.client_world import Served
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock, bearer, make_account
from tests.support.exchange import PAYLOAD
from tests.support.waiting import settled

PASSWORD = "correct horse battery staple"
AT = "2027-01-01T00:00:00Z"  # inside the validity of certificates issued under the test clock


@pytest.fixture
def settings(settings: Settings, live_port: int) -> Settings:
    """The test's settings, with the public URL the app is served on: the status list's URL names it."""
    return settings.model_copy(update={"base_url": f"http://127.0.0.1:{live_port}"})


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The profiles file of this test, and no client settings from the environment."""
    path = tmp_path / "config" / "profiles.json"
    monkeypatch.setenv("PDR_CLIENT_CONFIG", str(path))
    for name in ("PDR_CLIENT_PROFILE", "PDR_CLIENT_URL", "PDR_CLIENT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return path


def run(*args: str) -> Any:
    """Run `pdrc` with these arguments; the result has exit_code and stdout."""
    return CliRunner().invoke(pdrc, list(args), catch_exceptions=False)


def test_login_stores_a_token_only_its_owner_can_read_and_never_prints_it(
    served: Served, engine: Engine, settings: Settings, config: Path
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="citizen", password=PASSWORD)
    signed_in = run("--url", served.url, "login", "--name", "citizen", "--password", PASSWORD)
    assert signed_in.exit_code == 0, signed_in.output
    stored = json.loads(config.read_text())["profiles"]["default"]
    assert stored["token"] not in signed_in.output
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    assert "citizen (consumer)" in run("whoami").output
    assert run("logout").exit_code == 0
    # The token was revoked on the server, not only forgotten here.
    assert run("--token", stored["token"], "whoami").exit_code == 3
    assert run("whoami").exit_code == 7 or "token" not in json.loads(config.read_text())["profiles"]["default"]


def test_a_wrong_password_and_a_bad_token_exit_3(
    served: Served, engine: Engine, settings: Settings, config: Path
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="citizen", password=PASSWORD)
    refused = run("--url", served.url, "login", "--name", "citizen", "--password", "wrong")
    assert refused.exit_code == 3
    assert not config.exists()
    assert run("--url", served.url, "--token", "pdr_nonsense", "whoami").exit_code == 3


def test_a_visitor_searches_shows_and_downloads(served: Served, config: Path, tmp_path: Path) -> None:
    w = served.world
    found = run("--url", served.url, "search", "充电桩", "--json")
    assert found.exit_code == 0, found.output
    names = [json.loads(line)["id"] for line in found.output.splitlines()]
    assert w.open_dataset in names
    table = run("--url", served.url, "search", "充电桩", "--facet", "access")
    assert "datasets" in table.output and "unconditional" in table.output
    shown = run("--url", served.url, "show", w.open_dataset)
    assert w.open_file in shown.output and "data.bin" in shown.output
    got = run("--url", served.url, "get", w.open_dataset, "-o", str(tmp_path / "got"), "--no-progress")
    assert got.exit_code == 0, got.output
    assert (tmp_path / "got" / "data.bin").read_bytes() == PAYLOAD
    assert "verified" in got.output
    assert run("--url", served.url, "show", "no-such-dataset").exit_code == 4
    # Conditional data needs a grant: a visitor is refused with exit 3.
    assert run("--url", served.url, "get", w.conditional, "-o", str(tmp_path / "no")).exit_code == 3


def test_a_provider_uploads_and_publishes(served: Served, client: TestClient, config: Path, tmp_path: Path) -> None:
    token = served.world.provider.token
    created = client.post(
        "/api/v1/datasets", json={"title": "地铁客流", "access": "unconditional"}, headers=bearer(token)
    )
    dataset_id = created.json()["id"]
    source = tmp_path / "客流.csv"
    source.write_text("站点,人次\n体育西路,1000\n")
    put = run("--url", served.url, "--token", token, "put", dataset_id, str(source), "--no-progress")
    assert put.exit_code == 0, put.output
    assert "客流.csv" in put.output
    assert "published" in run("--url", served.url, "--token", token, "publish", dataset_id).output
    files = client.get(f"/api/v1/datasets/{dataset_id}/files").json()
    assert [(f["name"], f["media_type"]) for f in files] == [("客流.csv", "text/csv")]


def test_a_consumer_applies_is_granted_and_downloads(
    served: Served, client: TestClient, config: Path, tmp_path: Path
) -> None:
    w = served.world
    as_consumer = ("--url", served.url, "--token", w.consumer)
    applied = run(
        *as_consumer, "request-access", w.conditional, "--purpose", "交通规划研究", "--scenario", "充电桩布局",
        "--use", "public_welfare", "--from", "2026-11-23", "--until", "2026-12-31",
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    request_id = applied.output.split()[2].rstrip(":")
    assert run(*as_consumer, "get", w.conditional, "-o", str(tmp_path)).exit_code == 3
    approved = client.post(
        f"/api/v1/access-requests/{request_id}/approve", json={"download_quota": 2}, headers=bearer(w.provider.token)
    )
    assert approved.status_code == 200, approved.text
    grants = run(*as_consumer, "grants")
    assert "active" in grants.output
    [grant] = [json.loads(line) for line in run(*as_consumer, "grants", "--json").output.splitlines()]
    assert (grant["state"], grant["download_quota"], grant["downloads_used"]) == ("active", 2, 0)
    got = run(*as_consumer, "get", w.conditional, "-o", str(tmp_path / "got"), "--no-progress")
    assert got.exit_code == 0, got.output
    assert (tmp_path / "got" / "data.bin").read_bytes() == PAYLOAD

    def listed() -> list[tuple[str, bool]]:
        lines = run(*as_consumer, "downloads", "--json").output.splitlines()
        return [(d["dataset_id"], d["complete"]) for d in map(json.loads, lines)]

    assert settled(listed, [(w.conditional, True)]) == [(w.conditional, True)]


def test_verify_checks_every_part_and_fails_on_a_revoked_certificate(
    served: Served, client: TestClient, clock: FakeClock, config: Path
) -> None:
    w = served.world
    resource = registered_resource(client, clock, w.provider, w.operator)
    number = ok(issue(client, w.operator, resource_id=resource["id"], rights=["holding"]))["number"]
    verified = run("--url", served.url, "verify", number, "--at", AT)
    assert verified.exit_code == 0, verified.output
    assert "verified" in verified.output and "revocation" in verified.output
    ok(post(client, f"/api/v1/certificates/{number}/revoke", w.operator, {"reason": "权属争议"}))
    revoked = run("--url", served.url, "verify", number, "--at", AT)
    assert revoked.exit_code == 9, revoked.output
    assert "FAILED" in revoked.output
    assert run("--url", served.url, "verify", "4401-0000-0000").exit_code == 4
