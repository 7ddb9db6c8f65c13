"""Participant credentials: issued when the registry verifies an entity, public as a bundle that `pdr verify` checks
offline, revoked through the issuer's status list when the entity is suspended, and issued anew when it is verified
again."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from auth.roles import Role
from catalog.settings import Settings
from registry import status_list
from registry.certificate_credential import parse_rfc3339
from registry.credentials import verify_credential
from registry.models import Entity, ParticipantCredential
from storage.db import session_scope
from tests.support.data import bearer, entity_body, make_account
from tests.support.holding import holder_files, log_entry, verify_saved

PDR = Path(sys.executable).with_name("pdr")
ENTITIES = "/api/v1/entities"
SUBJECT_KEYS = {"id", "type", "name", "uscc", "entityKind", "regionCode"}


def _operator(engine: Engine, settings: Settings) -> str:
    return make_account(engine, settings.auth, Role.operator)[1]


def _pending(client: TestClient, operator: str, serial: int) -> str:
    """A registered entity the registry has not verified yet; its id."""
    created = client.post(ENTITIES, json=entity_body(serial), headers=bearer(operator))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _verify_entity(client: TestClient, operator: str, entity_id: str) -> None:
    verified = client.post(f"{ENTITIES}/{entity_id}/verify", headers=bearer(operator))
    assert verified.status_code == 200, verified.text


def _suspend(client: TestClient, operator: str, entity_id: str) -> None:
    suspended = client.post(f"{ENTITIES}/{entity_id}/suspend", json={"reason": "资质过期"}, headers=bearer(operator))
    assert suspended.status_code == 200, suspended.text


def _bundle(client: TestClient, entity_id: str) -> dict[str, Any]:
    """The entity's bundle as a visitor without an account reads it."""
    read = client.get(f"{ENTITIES}/{entity_id}/participant-credential")
    assert read.status_code == 200, read.text
    return dict(read.json())


def _at(bundle: dict[str, Any]) -> str:
    """A moment inside the credential's validity period."""
    return str(bundle["credential"]["validFrom"])


def _rows(engine: Engine, entity_id: str) -> list[tuple[int, str, int | None]]:
    """(serial, status, revoked_log_index) of the entity's credentials, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(ParticipantCredential)
            .where(ParticipantCredential.entity_id == entity_id)
            .order_by(col(ParticipantCredential.serial))
        ).all()
        return [(row.serial, row.status, row.revoked_log_index) for row in rows]


def _bit(client: TestClient, bundle: dict[str, Any]) -> bool:
    """Whether the credential's bit is set in the status list published now."""
    bits = status_list.decode_bits(client.get("/status/certificates").json()["credentialSubject"]["encodedList"])
    return status_list.bit_at(bits, int(bundle["credential"]["credentialStatus"]["statusListIndex"]))


def test_verifying_an_entity_issues_a_public_signed_logged_credential_that_pdr_verify_accepts(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    operator = _operator(engine, settings)
    entity_id = _pending(client, operator, 601)
    _verify_entity(client, operator, entity_id)
    bundle = _bundle(client, entity_id)
    assert bundle["status"] == "valid"
    assert bundle["entity_id"] == entity_id
    credential = bundle["credential"]
    assert bundle["id"] == credential["id"] == f"urn:pdr:participant:{entity_id}:1"
    assert credential["type"] == ["VerifiableCredential", "DataSpaceParticipantCredential"]
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    # The organisation's public facts, and nothing of its contact person.
    subject = credential["credentialSubject"]
    assert set(subject) == SUBJECT_KEYS
    assert subject["id"] == f"urn:pdr:entity:{entity_id}"
    assert subject["name"] == entity_body(601)["name"]
    assert subject["uscc"] == entity_body(601)["uscc"]
    assert (subject["entityKind"], subject["regionCode"]) == ("data_source", "440100")
    text = json.dumps(bundle, ensure_ascii=False)
    assert "张三" not in text and "020-12345678" not in text and "data@example.gov.cn" not in text
    valid_from, valid_until = parse_rfc3339(credential["validFrom"]), parse_rfc3339(credential["validUntil"])
    assert valid_until - valid_from == timedelta(days=365)
    assert credential["credentialStatus"]["statusListCredential"] == "http://testserver/status/certificates"
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify_credential(credential)
    entry = log_entry(engine, bundle["log_index"])
    assert entry["kind"] == "participant.issued"
    assert entry["body"]["credential_sha256"] == status_list.sha256_jcs(credential)
    assert entry["body"]["entity_id"] == entity_id
    assert _rows(engine, entity_id) == [(1, "valid", None)]
    # Signed-in callers read the same public bundle.
    assert client.get(f"{ENTITIES}/{entity_id}/participant-credential", headers=bearer(operator)).json() == bundle
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, bundle), _at(bundle))
    assert code == 0, output
    assert output.startswith(f"participant credential {entity_id}:1")
    assert "participant.issued at index" in output
    assert output.endswith("verified")


def test_only_the_staff_verify_and_a_refused_verification_issues_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    operator = _operator(engine, settings)
    provider = make_account(engine, settings.auth, Role.provider)[1]
    entity_id = _pending(client, operator, 602)
    assert client.post(f"{ENTITIES}/{entity_id}/verify", headers=bearer(provider)).status_code == 403
    assert client.post(f"{ENTITIES}/{entity_id}/verify").status_code == 401
    assert _rows(engine, entity_id) == []
    _verify_entity(client, operator, entity_id)
    # Verifying a verified entity again is refused and issues no second credential.
    assert client.post(f"{ENTITIES}/{entity_id}/verify", headers=bearer(operator)).status_code == 409
    assert _rows(engine, entity_id) == [(1, "valid", None)]


def test_the_installed_pdr_verify_refuses_a_participant_credential_with_a_changed_byte(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    operator = _operator(engine, settings)
    entity_id = _pending(client, operator, 603)
    _verify_entity(client, operator, entity_id)
    bundle = _bundle(client, entity_id)
    folder = holder_files(tmp_path, client, engine, settings, bundle)
    command = [str(PDR), "verify", str(folder / "bundle.json"), "--trust", str(folder / "trust.json")]
    command += ["--status-list", str(folder / "status.json"), "--at", _at(bundle)]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().endswith("verified")
    # One byte changed: the last digit of the credential's region code (440100 becomes 440101).
    text = (folder / "bundle.json").read_text(encoding="utf-8")
    changed = text.replace('"regionCode": "440100"', '"regionCode": "440101"', 1)
    assert changed != text and len(changed) == len(text)
    (folder / "bundle.json").write_text(changed, encoding="utf-8")
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 1, ran.stdout
    assert "FAILED  credential proof" in ran.stdout
    assert "FAILED  log inclusion" in ran.stdout


def test_suspending_an_entity_revokes_its_credential_and_pdr_verify_reports_it_revoked(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    operator = _operator(engine, settings)
    entity_id = _pending(client, operator, 604)
    _verify_entity(client, operator, entity_id)
    saved = _bundle(client, entity_id)
    assert not _bit(client, saved)
    _suspend(client, operator, entity_id)
    # The suspended entity is hidden from visitors, but its credential's bundle stays public and says revoked.
    assert client.get(f"{ENTITIES}/{entity_id}").status_code == 404
    revoked = _bundle(client, entity_id)
    assert revoked["status"] == "revoked"
    assert revoked["credential"] == saved["credential"]
    assert _bit(client, saved)
    [(serial, status, revoked_index)] = _rows(engine, entity_id)
    assert (serial, status) == (1, "revoked") and revoked_index is not None
    entry = log_entry(engine, revoked_index)
    assert entry["kind"] == "participant.revoked"
    assert entry["body"]["credential_id"] == saved["id"]
    assert entry["body"]["status_index"] == int(saved["credential"]["credentialStatus"]["statusListIndex"])
    # The bundle saved before says valid; the signed status list says revoked.
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, saved), _at(saved))
    assert code == 1
    assert "FAILED  revocation: revoked (bit" in output
    # The registry's bundle now says revoked, which refuses it before any list is read.
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, revoked), _at(revoked))
    assert code == 1
    assert "the registry reports the participant credential revoked" in output


def test_verifying_a_suspended_entity_again_issues_a_new_credential_and_keeps_the_old_one_revoked(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    operator = _operator(engine, settings)
    entity_id = _pending(client, operator, 605)
    _verify_entity(client, operator, entity_id)
    first = _bundle(client, entity_id)
    _suspend(client, operator, entity_id)
    _verify_entity(client, operator, entity_id)
    second = _bundle(client, entity_id)
    assert second["id"] == f"urn:pdr:participant:{entity_id}:2"
    assert second["status"] == "valid"
    assert second["log_index"] > first["log_index"]
    assert [serial for serial, _, _ in _rows(engine, entity_id)] == [1, 2]
    assert [status for _, status, _ in _rows(engine, entity_id)] == ["revoked", "valid"]
    # Each credential has a bit of its own: the old one stays set, the new one is clear.
    assert _bit(client, first) and not _bit(client, second)
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, second), _at(second))
    assert code == 0, output
    assert output.startswith(f"participant credential {entity_id}:2")
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, first), _at(second))
    assert code == 1
    assert "FAILED  revocation: revoked (bit" in output


def test_an_entity_without_a_participant_credential_has_no_bundle_and_the_answer_says_why(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    operator = _operator(engine, settings)
    pending = _pending(client, operator, 606)
    never = client.get(f"{ENTITIES}/{pending}/participant-credential")
    assert never.status_code == 404
    assert "issued when the registry verifies it" in never.json()["detail"]
    missing = client.get(f"{ENTITIES}/01ARZ3NDEKTSV4RRFFQ69G5FAV/participant-credential")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no such entity"
    # An entity verified before the registry issued participant credentials (as an upgraded database holds it).
    earlier = _pending(client, operator, 607)
    with session_scope(engine) as session:
        entity = session.get(Entity, earlier)
        assert entity is not None
        entity.status = "verified"
        session.add(entity)
        session.commit()
    legacy = client.get(f"{ENTITIES}/{earlier}/participant-credential")
    assert legacy.status_code == 404
    assert "verified before the registry issued participant credentials" in legacy.json()["detail"]
