"""Agreements as signed credentials: signed and logged when a negotiation is AGREED, read by the parties and the
staff as a bundle, verified offline by `pdr verify`, and ended (terminated by either party, retired by the provider)
through the issuer's status list, each ending logged."""

from __future__ import annotations

import json
import subprocess
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from registry import status_list
from registry.credentials import verify_credential
from registry.models import LogEntry
from storage.db import session_scope
from tests.support.data import bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World, content_url
from tests.support.holding import holder_files, log_entry, verify_saved

PDR = Path(sys.executable).with_name("pdr")
AT = "2026-12-01T00:00:00Z"  # after the agreements of these tests are signed, before their last day
NEGOTIATIONS = "/api/v1/negotiations"
AGREEMENTS = "/api/v1/agreements"


def _terms() -> dict[str, Any]:
    """Terms a grant can be made from: today to the end of May 2027, three downloads."""
    terms = deepcopy(offer_body())
    for c in terms["permission"][0]["constraint"]:
        if c["leftOperand"] == "dateTime":
            c["rightOperand"] = "2026-11-23" if c["operator"] == "gteq" else "2027-05-31"
        if c["leftOperand"] == "count":
            c["rightOperand"] = 3
    return terms


def _agreed(client: TestClient, w: World) -> str:
    """A negotiation the consumer opened with its own terms and the provider agreed to; its id."""
    offer = client.post(f"/api/v1/datasets/{w.conditional}/offers", json=offer_body(), headers=bearer(w.provider.token))
    assert offer.status_code == 201, offer.text
    started = client.post(
        NEGOTIATIONS, json={"offer_id": offer.json()["id"], "terms": _terms()}, headers=bearer(w.consumer)
    )
    assert started.status_code == 201, started.text
    nid = str(started.json()["id"])
    agreed = client.post(f"{NEGOTIATIONS}/{nid}/agree", headers=bearer(w.provider.token))
    assert agreed.status_code == 200, agreed.text
    return nid


def test_an_agreed_negotiation_has_a_signed_logged_agreement_that_pdr_verify_accepts(
    client: TestClient, world: World, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    w = world
    nid = _agreed(client, w)
    read = client.get(f"{AGREEMENTS}/{nid}", headers=bearer(w.consumer))
    assert read.status_code == 200, read.text
    bundle = read.json()
    assert bundle["status"] == "valid"
    credential = bundle["credential"]
    assert credential["type"] == ["VerifiableCredential", "DataSpaceAgreementCredential"]
    assert credential["id"] == f"urn:pdr:agreement:{nid}"
    subject = credential["credentialSubject"]
    assert subject["assigner"] == f"urn:pdr:entity:{w.provider.entity_id}"
    assert subject["assignee"] == f"urn:pdr:account:{w.consumer_id}"
    assert subject["target"] == f"urn:pdr:dataset:{w.conditional}"
    assert subject["permission"] == _negotiation(client, w, nid)["agreement"]["permission"]
    assert credential["validUntil"] == "2027-05-31T15:59:59Z"  # the end of 31 May 2027 in China
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify_credential(credential)
    # The log entry: ids, hashes and times; the consumer's account (a person) is not in it.
    entry = log_entry(engine, bundle["log_index"])
    assert entry["kind"] == "agreement.signed"
    assert entry["body"]["credential_sha256"] == status_list.sha256_jcs(credential)
    assert entry["body"]["assigner"] == f"urn:pdr:entity:{w.provider.entity_id}"
    assert "assignee" not in entry["body"]
    assert w.consumer_id not in json.dumps(entry)
    # The provider and the staff read it too; another entity and a visitor do not.
    assert client.get(f"{AGREEMENTS}/{nid}", headers=bearer(w.provider.token)).json() == bundle
    assert client.get(f"{AGREEMENTS}/urn:pdr:agreement:{nid}", headers=bearer(w.operator)).status_code == 200
    assert client.get(f"{AGREEMENTS}/{nid}", headers=bearer(w.other.token)).status_code == 404
    assert client.get(f"{AGREEMENTS}/{nid}").status_code == 401
    folder = holder_files(tmp_path, client, engine, settings, bundle)
    code, output = verify_saved(folder, AT)
    assert code == 0, output
    assert output.startswith(f"agreement {nid}")
    assert "agreement.signed at index" in output
    assert output.endswith("verified")


def _negotiation(client: TestClient, w: World, nid: str) -> dict[str, Any]:
    return dict(client.get(f"{NEGOTIATIONS}/{nid}", headers=bearer(w.consumer)).json())


def test_the_installed_pdr_verify_accepts_an_agreement_and_refuses_a_changed_byte(
    client: TestClient, world: World, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    nid = _agreed(client, world)
    bundle = client.get(f"{AGREEMENTS}/{nid}", headers=bearer(world.consumer)).json()
    folder = holder_files(tmp_path, client, engine, settings, bundle)
    command = [str(PDR), "verify", str(folder / "bundle.json"), "--trust", str(folder / "trust.json")]
    command += ["--status-list", str(folder / "status.json"), "--at", AT]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().endswith("verified")
    # One byte changed: the 7 of the last day becomes an 8.
    text = (folder / "bundle.json").read_text(encoding="utf-8")
    changed = text.replace("2027-05-31T15:59:59Z", "2028-05-31T15:59:59Z", 1)
    assert changed != text and len(changed) == len(text)
    (folder / "bundle.json").write_text(changed, encoding="utf-8")
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 1, ran.stdout
    assert "FAILED  credential proof" in ran.stdout
    assert "FAILED  log inclusion" in ran.stdout


def test_a_party_terminates_an_agreement_and_pdr_verify_reports_it_revoked(
    client: TestClient, world: World, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    w = world
    nid = _agreed(client, w)
    saved = client.get(f"{AGREEMENTS}/{nid}", headers=bearer(w.consumer)).json()
    assert (
        client.post(f"{AGREEMENTS}/{nid}/terminate", json={"reason": ""}, headers=bearer(w.consumer)).status_code == 422
    )
    ended = client.post(f"{AGREEMENTS}/{nid}/terminate", json={"reason": "项目取消"}, headers=bearer(w.consumer))
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    # The negotiation, still open at AGREED, is terminated with the reason as its last step.
    negotiation = _negotiation(client, w, nid)
    assert negotiation["state"] == "TERMINATED"
    assert negotiation["steps"][-1]["reason"] == "项目取消"
    # Logged without the reason, which may name people.
    with session_scope(engine) as session:
        last = session.get(LogEntry, status_list.latest_version(session).log_index + 1)  # type: ignore[union-attr]
        assert last is not None and last.kind == "agreement.ended"
        assert "项目取消" not in last.data.decode()
        assert json.loads(last.data)["body"]["status"] == "terminated"
    again = client.post(f"{AGREEMENTS}/{nid}/terminate", json={"reason": "再次"}, headers=bearer(w.provider.token))
    assert again.status_code == 409
    # The bundle the consumer saved before says valid; the signed status list says revoked.
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, saved), AT)
    assert code == 1
    assert "FAILED  revocation: revoked (bit" in output
    # The registry's bundle now says terminated, which refuses it before any list is read.
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, ended.json()), AT)
    assert code == 1
    assert "the registry reports the agreement terminated" in output


def test_only_the_provider_retires_a_finalized_agreement_and_its_grant_stops(
    client: TestClient, world: World, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    w = world
    nid = _agreed(client, w)
    assert client.post(f"{NEGOTIATIONS}/{nid}/verify", headers=bearer(w.consumer)).status_code == 200
    assert client.post(f"{NEGOTIATIONS}/{nid}/finalize", headers=bearer(w.provider.token)).status_code == 200
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    reason = {"reason": "数据集下线"}
    url = f"{AGREEMENTS}/{nid}/retire"
    assert client.post(url, json=reason).status_code == 401
    assert client.post(url, json=reason, headers=bearer(w.other.token)).status_code == 404
    assert client.post(url, json=reason, headers=bearer(w.consumer)).status_code == 403
    assert client.post(url, json=reason, headers=bearer(w.operator)).status_code == 403
    assert client.post(f"{AGREEMENTS}/{nid}/terminate", json=reason, headers=bearer(w.operator)).status_code == 403
    retired = client.post(url, json=reason, headers=bearer(w.provider.token))
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired"
    # The finalized negotiation stays as it was; the grant made under the agreement is revoked.
    negotiation = _negotiation(client, w, nid)
    assert negotiation["state"] == "FINALIZED"
    grant = client.get(f"/api/v1/grants/{negotiation['grant_id']}", headers=bearer(w.consumer)).json()
    assert grant["state"] == "revoked"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403
    code, output = verify_saved(holder_files(tmp_path, client, engine, settings, retired.json()), AT)
    assert code == 1
    assert "the registry reports the agreement retired" in output


def test_terminating_a_negotiation_ends_its_agreement_and_the_list_keeps_earlier_bits(
    client: TestClient, world: World
) -> None:
    w = world
    first, second = _agreed(client, w), _agreed(client, w)
    done = client.post(
        f"{NEGOTIATIONS}/{first}/terminate", json={"reason": "不再需要"}, headers=bearer(w.provider.token)
    )
    assert done.status_code == 200, done.text
    assert client.get(f"{AGREEMENTS}/{first}", headers=bearer(w.consumer)).json()["status"] == "terminated"
    assert (
        client.post(f"{AGREEMENTS}/{second}/terminate", json={"reason": "另有安排"}, headers=bearer(w.consumer)).json()[
            "status"
        ]
        == "terminated"
    )
    # The latest list version has both bits: a later publication never drops an earlier revocation.
    bits = status_list.decode_bits(client.get("/status/certificates").json()["credentialSubject"]["encodedList"])
    for nid in (first, second):
        index = int(
            client.get(f"{AGREEMENTS}/{nid}", headers=bearer(w.consumer)).json()["credential"]["credentialStatus"][
                "statusListIndex"
            ]
        )
        assert status_list.bit_at(bits, index)
    # A negotiation without an agreement has no bundle.
    offer = client.post(f"/api/v1/datasets/{w.conditional}/offers", json=offer_body(), headers=bearer(w.provider.token))
    opened = client.post(NEGOTIATIONS, json={"offer_id": offer.json()["id"]}, headers=bearer(w.consumer)).json()
    assert client.get(f"{AGREEMENTS}/{opened['id']}", headers=bearer(w.consumer)).status_code == 404
