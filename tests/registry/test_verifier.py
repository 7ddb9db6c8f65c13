"""Offline verification: `pdr verify` on bundles, their tampered copies, revocation, and issuer key rotation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from catalog.cli import app as cli_app
from catalog.settings import Settings
from registry import keys, verifier
from registry.credentials import did_key_verification_method, sign_credential
from storage.db import session_scope
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider

AT = "2027-01-01T00:00:00Z"  # inside the validity of certificates issued under the test clock
runner = CliRunner()


def trust(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The trust document the registry publishes."""
    with session_scope(engine) as session:
        return verifier.trust_document(session, settings)


def write(path: Path, document: object) -> Path:
    """Write JSON to a file and return its path."""
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def pdr_verify(tmp_path: Path, bundle: object, trust_doc: object, *extra: str) -> tuple[int, str]:
    """Run `pdr verify` on a bundle and a trust document; return the exit code and the output."""
    bundle_file = write(tmp_path / "bundle.json", bundle)
    trust_file = write(tmp_path / "trust.json", trust_doc)
    result = runner.invoke(cli_app, ["verify", str(bundle_file), "--trust", str(trust_file), "--at", AT, *extra])
    return result.exit_code, result.output


@pytest.fixture
def issued(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> dict[str, Any]:
    """The bundle of a freshly issued certificate."""
    resource = registered_resource(client, clock, provider, operator)
    return ok(issue(client, operator, resource_id=resource["id"], rights=["holding", "processing_use"]))


def test_a_bundle_verifies_against_the_trust_document(
    tmp_path: Path, client: TestClient, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    trust_doc = trust(engine, settings)
    assert trust_doc["log_origin"] == "testserver/log"
    assert trust_doc["log_vkey"].startswith("testserver/log+")
    assert trust_doc["issuer_did"] == issued["credential"]["issuer"]["id"]
    assert trust_doc["issuer_dids"] == [trust_doc["issuer_did"]]
    assert trust_doc["status_list_url"] == "http://testserver/status/certificates"

    listed = client.get("/status/certificates").json()
    at = datetime(2027, 1, 1, tzinfo=UTC)
    report = verifier.verify_bundle(
        issued, verifier.Trust.from_document(trust_doc), at=at, status_list_credential=listed
    )
    assert report.ok
    assert report.exit_code == verifier.EXIT_VERIFIED
    assert [(c.name, c.ok) for c in report.checks] == [
        ("credential proof", True),
        ("checkpoint", True),
        ("log inclusion", True),
        ("validity", True),
        ("revocation", True),
    ]
    # Without a list, and with nothing to fetch it, revocation is reported unchecked: never as passed.
    unchecked = verifier.verify_bundle(issued, verifier.Trust.from_document(trust_doc), at=at)
    assert [(c.name, c.ok) for c in unchecked.checks][-1] == ("revocation", None)
    assert unchecked.exit_code == verifier.EXIT_REVOCATION_NOT_CHECKED
    status_file = write(tmp_path / "status.json", listed)
    code, output = pdr_verify(tmp_path, issued, trust_doc, "--status-list", str(status_file))
    assert code == 0, output
    assert f"certificate {issued['number']}" in output
    assert (
        "ok      credential proof: eddsa-jcs-2022 proof by 公共数据登记机构 / Public Data Registration Body" in output
    )
    assert "ok      log inclusion: certificate.issued at index" in output
    assert f"ok      revocation: not revoked (bit {_bit(issued)} " in output
    assert output.strip().endswith("verified")


def _set(document: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _one_byte_off(text: str) -> str:
    last = text[-1]
    return text[:-1] + ("8" if last != "8" else "9")


def _checkpoint_lines(tlog_proof: str) -> tuple[str, list[str]]:
    head, _, checkpoint = tlog_proof.partition("\n\n")
    return head, checkpoint.split("\n")


def tampered_cases(bundle: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Each tampered copy of a bundle and the check that must fail on it."""
    credential = bundle["credential"]
    uscc = credential["credentialSubject"]["uscc"]
    proof_value = credential["proof"]["proofValue"]
    head, lines = _checkpoint_lines(bundle["tlog_proof"])
    size_changed = [lines[0], str(int(lines[1]) + 1), *lines[2:]]
    root_changed = [lines[0], lines[1], "A" * 43 + "=", *lines[3:]]
    hash_line = head.split("\n")[2]
    other_hash = ("B" if hash_line[0] != "B" else "C") + hash_line[1:]
    return {
        "subject-value": (
            _set(bundle, ["credential", "credentialSubject", "uscc"], _one_byte_off(uscc)),
            "credential proof",
        ),
        "validity-extended": (_set(bundle, ["credential", "validUntil"], "2039-12-08T02:00:00Z"), "credential proof"),
        "proof-value": (
            _set(
                bundle,
                ["credential", "proof", "proofValue"],
                proof_value[:-2] + ("11" if proof_value[-2:] != "11" else "22"),
            ),
            "credential proof",
        ),
        "proof-created": (_set(bundle, ["credential", "proof", "created"], "2026-12-09T02:00:00Z"), "credential proof"),
        "checkpoint-size-line": (
            _set(bundle, ["tlog_proof"], head + "\n\n" + "\n".join(size_changed)),
            "checkpoint",
        ),
        "checkpoint-root-line": (
            _set(bundle, ["tlog_proof"], head + "\n\n" + "\n".join(root_changed)),
            "checkpoint",
        ),
        "inclusion-hash": (
            _set(bundle, ["tlog_proof"], bundle["tlog_proof"].replace(hash_line, other_hash, 1)),
            "log inclusion",
        ),
        "no-tlog-proof": (_set(bundle, ["tlog_proof"], "c2sp.org/tlog-proof@v1\nindex 0\n"), "checkpoint"),
    }


CASES = [
    "subject-value",
    "validity-extended",
    "proof-value",
    "proof-created",
    "checkpoint-size-line",
    "checkpoint-root-line",
    "inclusion-hash",
    "no-tlog-proof",
]


@pytest.mark.parametrize("case", CASES)
def test_tampered_bundles_fail_pdr_verify(
    tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings, case: str
) -> None:
    tampered, failing = tampered_cases(issued)[case]
    assert tampered != issued
    code, output = pdr_verify(tmp_path, tampered, trust(engine, settings), "--offline")
    assert code == 1, output
    assert f"verification failed: {failing}:" in output


def test_a_wrong_origin_or_log_key_fails(
    tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    trust_doc = trust(engine, settings)
    code, output = pdr_verify(tmp_path, issued, {**trust_doc, "log_origin": "registry.example/log"}, "--offline")
    assert code == 1, output
    assert "verification failed: checkpoint:" in output
    other_key = "otherlog/log+" + trust_doc["log_vkey"].split("+", 1)[1]
    code, output = pdr_verify(tmp_path, issued, {**trust_doc, "log_vkey": other_key}, "--offline")
    assert code == 1, output
    assert "verification failed: checkpoint:" in output


def test_a_signed_but_unlogged_credential_fails(
    tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    # Even the issuer's own key cannot make a credential the log never saw pass: the leaf will not match.
    with session_scope(engine) as session:
        key, private_key = settings.keyring().signer(session, keys.ISSUER)
        method = did_key_verification_method(keys.public_key_of(key))
    unsigned = {k: v for k, v in issued["credential"].items() if k != "proof"}
    unsigned["credentialSubject"] = {
        **unsigned["credentialSubject"],
        "rights": ["holding", "processing_use", "product_operating"],
    }
    forged = sign_credential(unsigned, private_key, method, datetime(2026, 12, 8, 2, tzinfo=UTC))
    code, output = pdr_verify(tmp_path, {**issued, "credential": forged}, trust(engine, settings), "--offline")
    assert code == 1, output
    assert "ok      credential proof" in output
    assert "verification failed: log inclusion:" in output


def test_an_untrusted_issuer_fails(tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings) -> None:
    trust_doc = trust(engine, settings)
    stranger = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    untrusting = {**trust_doc, "issuer_did": stranger, "issuer_dids": [stranger]}
    code, output = pdr_verify(tmp_path, issued, untrusting, "--offline")
    assert code == 1, output
    assert "verification failed: credential proof:" in output


def test_validity_is_judged_at_the_time_given(
    tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    trust_doc = trust(engine, settings)
    bundle_file = write(tmp_path / "bundle.json", issued)
    trust_file = write(tmp_path / "trust.json", trust_doc)
    for at, expected in (("2030-01-01T00:00:00Z", "expired on"), ("2026-12-01T00:00:00+08:00", "not valid before")):
        result = runner.invoke(
            cli_app, ["verify", str(bundle_file), "--trust", str(trust_file), "--at", at, "--offline"]
        )
        assert result.exit_code == 1, result.output
        assert f"verification failed: validity: {expected}" in result.output


def test_unreadable_input_exits_2(tmp_path: Path, issued: dict[str, Any]) -> None:
    code, output = pdr_verify(tmp_path, issued, {"log_origin": "x/log"})
    assert code == 2
    assert "log_vkey" in output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(cli_app, ["verify", str(bad), "--trust", str(bad)])
    assert result.exit_code == 2
    assert "is not JSON" in result.output


def _bit(bundle: dict[str, Any]) -> str:
    """The certificate's bit in the status list (earlier credentials, an entity's included, took the ones before)."""
    return str(bundle["credential"]["credentialStatus"]["statusListIndex"])


# ---------------------------------------------------------------- revocation


def test_revocation_with_a_status_list_file(
    tmp_path: Path, client: TestClient, issued: dict[str, Any], operator: str, engine: Engine, settings: Settings
) -> None:
    trust_doc = trust(engine, settings)
    before = client.get("/status/certificates").json()
    code, output = pdr_verify(tmp_path, issued, trust_doc, "--status-list", str(write(tmp_path / "sl0.json", before)))
    assert code == 0, output
    assert f"ok      revocation: not revoked (bit {_bit(issued)} " in output

    revoked = ok(
        post(client, f"/api/v1/certificates/{issued['number']}/revoke", operator, {"reason": "持有人申请撤销"})
    )
    assert revoked["status"] == "revoked"
    status = client.get("/status/certificates").json()
    # The old bundle, checked against the new list.
    code, output = pdr_verify(tmp_path, issued, trust_doc, "--status-list", str(write(tmp_path / "sl1.json", status)))
    assert code == 1, output
    assert f"verification failed: revocation: revoked (bit {_bit(issued)} " in output
    # The new bundle says so itself, even without a list.
    code, output = pdr_verify(tmp_path, revoked, trust_doc, "--offline")
    assert code == 1, output
    assert "verification failed: revocation: the registry reports the certificate revoked" in output

    # A list whose bits were changed without a new signature is refused.
    unsigned_flip = _set(before, ["credentialSubject", "encodedList"], status["credentialSubject"]["encodedList"])
    code, output = pdr_verify(
        tmp_path, issued, trust_doc, "--status-list", str(write(tmp_path / "sl2.json", unsigned_flip))
    )
    assert code == 1, output
    assert "verification failed: revocation: the status list's proof does not verify" in output


# ---------------------------------------------------------------- issuer key rotation


def test_certificates_signed_before_a_rotation_keep_verifying(
    tmp_path: Path,
    client: TestClient,
    clock: FakeClock,
    provider: Provider,
    operator: str,
    engine: Engine,
    settings: Settings,
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    old = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    with session_scope(engine) as session:
        keys.rotate_issuer(session, settings.passphrase)
    new = ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use"]))
    old_did, new_did = old["credential"]["issuer"]["id"], new["credential"]["issuer"]["id"]
    assert new_did != old_did
    assert new["credential"]["proof"]["verificationMethod"].startswith(new_did + "#")

    trust_doc = trust(engine, settings)
    assert trust_doc["issuer_did"] == new_did
    assert set(trust_doc["issuer_dids"]) == {old_did, new_did}
    fresh_old = client.get(f"/api/v1/certificates/{old['number']}").json()  # proof under the newest checkpoint
    listed = str(write(tmp_path / "sl-before.json", client.get("/status/certificates").json()))
    for bundle in (fresh_old, old, new):
        code, output = pdr_verify(tmp_path, bundle, trust_doc, "--status-list", listed)
        assert code == 0, output
    # A verifier that only knows the new key refuses the old certificate, naming the proof.
    only_new = {**trust_doc, "issuer_dids": []}
    code, output = pdr_verify(tmp_path, old, only_new, "--offline")
    assert code == 1
    assert "verification failed: credential proof:" in output
    # The status list is now signed by the new key, and still verifies against the trust document.
    ok(post(client, f"/api/v1/certificates/{old['number']}/revoke", operator, {"reason": "rotation test"}))
    status = client.get("/status/certificates").json()
    assert status["issuer"] == new_did
    code, output = pdr_verify(tmp_path, new, trust_doc, "--status-list", str(write(tmp_path / "sl.json", status)))
    assert code == 0, output


def test_only_the_registrys_credential_types_are_accepted_each_with_its_own_log_entry(
    tmp_path: Path, issued: dict[str, Any], engine: Engine, settings: Settings
) -> None:
    # The issuer signs certificates and agreements; a credential is one of them, and its leaf is rebuilt by its type.
    with session_scope(engine) as session:
        key, private_key = settings.keyring().signer(session, keys.ISSUER)
        method = did_key_verification_method(keys.public_key_of(key))
    unsigned = {k: v for k, v in issued["credential"].items() if k != "proof"}
    signed_at = datetime(2026, 12, 8, 2, tzinfo=UTC)
    for types, failure in (
        (["VerifiableCredential"], "credential proof: the credential is not a DataPropertyRightCertificate or "),
        (["VerifiableCredential", "DataPropertyRightCertificate", "DataSpaceAgreementCredential"], "credential proof"),
        (["VerifiableCredential", "DataSpaceAgreementCredential"], "log inclusion: the credential's log entry cannot"),
    ):
        forged = sign_credential({**unsigned, "type": types}, private_key, method, signed_at)
        code, output = pdr_verify(tmp_path, {**issued, "credential": forged}, trust(engine, settings), "--offline")
        assert code == 1, output
        assert f"verification failed: {failure}" in output
