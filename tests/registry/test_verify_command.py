"""`pdr verify` as its users run it: the installed command in a process of its own, against a registry on a port.

Revocation fails closed: by default the command fetches the status list the credential names from the live
registry; `--offline` leaves revocation unchecked, says so and exits 3; a list that cannot be fetched exits 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from registry import verifier
from storage.db import session_scope
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.live import free_port, serving
from tests.support.registry import Provider

PDR = Path(sys.executable).with_name("pdr")
AT = "2027-01-01T00:00:00Z"  # inside the validity of certificates issued under the test clock
# The longest one run of the command may take on a busy 2-core machine before the test gives up on it.
RUN_SECONDS = 120


@pytest.fixture
def live_port() -> int:
    """The port the registry is served on, known before the app is built so its public URL can name it."""
    return free_port()


@pytest.fixture
def settings(settings: Settings, live_port: int) -> Settings:
    """The test's settings, with the public URL of the registry served on the live port."""
    return settings.model_copy(update={"base_url": f"http://127.0.0.1:{live_port}"})


@pytest.fixture
def issued(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> dict[str, Any]:
    """The bundle of a freshly issued certificate, as its holder saved it."""
    resource = registered_resource(client, clock, provider, operator)
    return ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))


def trust_file(tmp_path: Path, engine: Engine, settings: Settings) -> Path:
    """The registry's trust document, saved to a file."""
    with session_scope(engine) as session:
        document = verifier.trust_document(session, settings)
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def pdr_verify(tmp_path: Path, bundle: dict[str, Any], trust: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `pdr verify` on a saved bundle; its exit status and output."""
    bundle_path = tmp_path / "bundle.json"
    bundle_path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [str(PDR), "verify", str(bundle_path), "--trust", str(trust), "--at", AT, *extra],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def revoke(client: TestClient, operator: str, number: str) -> None:
    """Revoke a certificate through the API."""
    ok(post(client, f"/api/v1/certificates/{number}/revoke", operator, {"reason": "持有人申请撤销"}))


def test_a_revoked_certificate_fails_by_default(
    tmp_path: Path,
    app: FastAPI,
    client: TestClient,
    operator: str,
    issued: dict[str, Any],
    engine: Engine,
    settings: Settings,
    live_port: int,
) -> None:
    trust = trust_file(tmp_path, engine, settings)
    list_url = f"http://127.0.0.1:{live_port}/status/certificates"
    assert issued["credential"]["credentialStatus"]["statusListCredential"] == list_url
    bit = issued["credential"]["credentialStatus"]["statusListIndex"]
    with serving(app, port=live_port):
        before = pdr_verify(tmp_path, issued, trust)
        assert before.returncode == 0, before.stdout + before.stderr
        assert f"ok      revocation: not revoked (bit {bit} " in before.stdout
        assert before.stdout.strip().endswith("verified")

        revoke(client, operator, issued["number"])
        # The bundle saved before the revocation still says "valid": only the fetched list tells.
        assert issued["status"] == "valid"
        after = pdr_verify(tmp_path, issued, trust)
    assert after.returncode == verifier.EXIT_FAILED, after.stdout + after.stderr
    assert f"FAILED  revocation: revoked (bit {bit} " in after.stdout
    assert after.stdout.strip().splitlines()[-1].startswith(f"verification failed: revocation: revoked (bit {bit} ")


def test_offline_says_revocation_was_not_checked(
    tmp_path: Path, client: TestClient, operator: str, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    trust = trust_file(tmp_path, engine, settings)
    revoke(client, operator, issued["number"])
    # Nothing listens on the live port: an offline run never tries it.
    result = pdr_verify(tmp_path, issued, trust, "--offline")
    assert result.returncode == verifier.EXIT_REVOCATION_NOT_CHECKED == 3, result.stdout + result.stderr
    assert "ok      credential proof" in result.stdout
    assert "skipped revocation: NOT checked: the status list" in result.stdout
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("NOT VERIFIED: revocation was not checked (--offline).")
    assert "may have been revoked" in verdict


def test_an_unreachable_status_list_fails(
    tmp_path: Path,
    client: TestClient,
    issued: dict[str, Any],
    engine: Engine,
    settings: Settings,
    live_port: int,
) -> None:
    trust = trust_file(tmp_path, engine, settings)
    # The registry is not served: the list the credential names cannot be fetched.
    result = pdr_verify(tmp_path, issued, trust)
    assert result.returncode == verifier.EXIT_STATUS_LIST_UNAVAILABLE == 4, result.stdout + result.stderr
    url = f"http://127.0.0.1:{live_port}/status/certificates"
    assert f"FAILED  revocation: cannot fetch the status list from {url} (ConnectError)" in result.stdout
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("verification failed: revocation could not be checked: cannot fetch the status list")
    assert not result.stdout.strip().endswith("verified")
    # A list saved earlier is the way to check without the network.
    saved = tmp_path / "status.json"
    saved.write_text(json.dumps(client.get("/status/certificates").json()), encoding="utf-8")
    with_list = pdr_verify(tmp_path, issued, trust, "--status-list", str(saved))
    assert with_list.returncode == 0, with_list.stdout + with_list.stderr
    assert with_list.stdout.strip().endswith("verified")


def test_help_documents_the_exit_codes() -> None:
    result = subprocess.run(
        [str(PDR), "verify", "--help"], capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "--online --offline" in text or "--online/--offline" in text
    for code, meaning in (
        (verifier.EXIT_VERIFIED, "verified, revocation included"),
        (verifier.EXIT_FAILED, "a check failed: the certificate is revoked"),
        (verifier.EXIT_BAD_INPUT, "a file given cannot be read"),
        (verifier.EXIT_REVOCATION_NOT_CHECKED, "--offline: every other check passed, but revocation was NOT checked"),
        (verifier.EXIT_STATUS_LIST_UNAVAILABLE, "the status list could not be fetched"),
    ):
        assert f"{code} {meaning}" in text, (code, text)
