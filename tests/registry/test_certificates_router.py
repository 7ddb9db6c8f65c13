"""Certificates over HTTP: issuing, refusals, permissions, the bundle, revocation, cancellation and audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import select

from auth.roles import Role
from catalog.app import create_app
from catalog.settings import Settings
from registry import certificate_audit, status_list, verifier
from registry.codes import parse_certificate_number
from registry.models import Certificate, LogEntry
from storage.db import session_scope
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock, entity_body, make_account, resource_body
from tests.support.registry import Provider
from tests.support.workflow import register

# ---------------------------------------------------------------- helpers of these tests only


def entity_provider(
    client: TestClient, engine: Engine, settings: Settings, operator: str, serial: int, kind: str, verify: bool = True
) -> Provider:
    """A provider account whose entity has a given kind (merchant, operator, ...)."""
    account_id, token = make_account(engine, settings.auth, Role.provider, name=f"provider-{kind}-{serial}")
    entity = ok(post(client, "/api/v1/entities", token, entity_body(serial, kind=kind)))
    if verify:
        ok(post(client, f"/api/v1/entities/{entity['id']}/verify", operator))
    return Provider(token=token, account_id=account_id, entity_id=entity["id"])


def registered_product(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, source_id: str, **overrides: object
) -> dict[str, Any]:
    """A product taken through a first registration; returns the product with its registration."""
    body: dict[str, Any] = {
        "name": "新能源汽车充电需求指数",
        "summary": "基于充电桩数据的区域充电需求指数。",
        "form": "index",
        "scenario": "充电设施规划",
        "source_resource_ids": [source_id],
        **overrides,
    }
    product = ok(post(client, "/api/v1/products", provider.token, body))
    reg = ok(
        post(
            client, "/api/v1/registrations", provider.token, {"type": "first", "subject": {"product_id": product["id"]}}
        )
    )
    done = register(client, clock, provider, operator, reg["id"])
    assert done["state"] == "registered", done
    return {**product, "registration": done}


def log_entry(engine: Engine, index: int) -> LogEntry:
    """One stored log entry."""
    with session_scope(engine) as session:
        entry = session.get(LogEntry, index)
        assert entry is not None
        session.expunge(entry)
        return entry


# ---------------------------------------------------------------- issuing


def test_issue_for_a_registered_resource(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    response = issue(client, operator, resource_id=resource["id"], rights=["processing_use", "holding", "holding"])
    assert response.status_code == 201, response.text
    bundle = response.json()
    number = bundle["number"]
    year, month, registry_code, serial = parse_certificate_number(number)
    assert (year, month, registry_code, serial) == (2026, 12, "4401", 1)  # issued in December, after the notice
    assert bundle["status"] == "valid"
    assert bundle["tlog_proof"].startswith("c2sp.org/tlog-proof@v1\nindex ")

    credential = bundle["credential"]
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2", "http://testserver/contexts/pdr/v1"]
    assert credential["type"] == ["VerifiableCredential", "DataPropertyRightCertificate"]
    assert credential["id"] == f"urn:pdr:certificate:{number}"
    assert credential["issuer"]["id"].startswith("did:key:z6Mk")
    assert credential["issuer"]["name"] == [
        {"@value": "公共数据登记机构", "@language": "zh-CN"},
        {"@value": "Public Data Registration Body", "@language": "en"},
    ]
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert credential["proof"]["verificationMethod"].startswith(credential["issuer"]["id"] + "#z6Mk")
    assert credential["validFrom"] == "2026-12-08T02:00:00Z"
    assert credential["validUntil"] == "2029-12-08T02:00:00Z"
    subject = credential["credentialSubject"]
    assert subject["id"] == f"urn:pdr:entity:{provider.entity_id}"
    assert subject["name"] == "广州市数据局测试单位1"
    assert subject["uscc"] == entity_body(1)["uscc"]
    assert subject["rights"] == ["holding", "processing_use"]  # canonical order, no duplicates
    assert subject["scope"] == "在广州市范围内用于交通规划研究"
    data = subject["registeredData"]
    assert data["id"] == f"urn:pdr:resource:{resource['id']}"
    assert (data["code"], data["name"], data["subjectType"]) == (resource["code"], resource["name"], "resource")
    assert data["registrationCode"] == resource["registration"]["code"]
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == "http://testserver/status/certificates"
    # Its own bit: the verified entity's participant credential took the one before.
    assert int(status["statusListIndex"]) >= 0

    # The same bundle for anyone, and the log entry carries the credential's hash.
    assert client.get(f"/api/v1/certificates/{number}").json()["credential"] == credential
    entry = log_entry(engine, bundle["log_index"])
    assert entry.kind == "certificate.issued"
    assert entry.subject == f"certificate:{number}"
    assert f'"credential_sha256":"{status_list.sha256_jcs(credential)}"' in entry.data.decode()
    assert f'"holder_uscc":"{subject["uscc"]}"' in entry.data.decode()

    # The JSON-LD context it names is served.
    context = client.get("/contexts/pdr/v1")
    assert context.status_code == 200
    assert context.headers["content-type"].startswith("application/ld+json")
    assert "DataPropertyRightCertificate" in context.json()["@context"]


def test_status_list_credential_is_signed_and_covers_the_bit(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    listed = client.get("/status/certificates")
    assert listed.status_code == 200
    credential = listed.json()
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == "http://testserver/status/certificates"
    bits = status_list.decode_bits(credential["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == status_list.MIN_LENGTH
    assert not status_list.bit_at(bits, 0)
    from registry.credentials import verify_credential

    assert verify_credential(credential)


def test_product_operating_right_for_a_merchants_product(
    client: TestClient, engine: Engine, settings: Settings, clock: FakeClock, provider: Provider, operator: str
) -> None:
    source = registered_resource(client, clock, provider, operator)
    merchant = entity_provider(client, engine, settings, operator, 7, "merchant")
    product = registered_product(client, clock, merchant, operator, source["id"])
    bundle = ok(issue(client, operator, product_id=product["id"], rights=["product_operating", "holding"]))
    subject = bundle["credential"]["credentialSubject"]
    assert subject["rights"] == ["holding", "product_operating"]
    assert subject["entityKind"] == "merchant"
    assert subject["registeredData"]["type"] == "DataProduct"
    # Naming the registration works as well as naming the subject.
    again = ok(issue(client, operator, registration_id=product["registration"]["id"], rights=["processing_use"]))
    assert again["credential"]["credentialSubject"]["registeredData"]["id"] == f"urn:pdr:product:{product['id']}"


def test_validity_is_capped_by_the_authorisation_and_follows_the_setting(
    client: TestClient, app: FastAPI, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    capped = ok(
        issue(client, operator, resource_id=resource["id"], rights=["holding"], authorisation_ends_on="2027-06-30")
    )
    # The authorisation lasts to the end of its last day in China (UTC+8).
    assert capped["credential"]["validUntil"] == "2027-06-30T15:59:59Z"
    app.state.settings.registry.certificate_validity_years = 1
    shorter = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    assert shorter["credential"]["validUntil"] == "2027-12-08T02:00:00Z"
    later = ok(
        issue(client, operator, resource_id=resource["id"], rights=["holding"], authorisation_ends_on="2030-01-01")
    )
    assert later["credential"]["validUntil"] == "2027-12-08T02:00:00Z"


def test_certificate_numbers_are_distinct_and_listed(
    client: TestClient, clock: FakeClock, provider: Provider, other_provider: Provider, operator: str
) -> None:
    first = registered_resource(client, clock, provider, operator)
    second = registered_resource(client, clock, other_provider, operator, name="越秀区公共停车场数据")
    numbers = [
        ok(issue(client, operator, resource_id=subject["id"], rights=["holding"]))["number"]
        for subject in (first, second, first, second, first)
    ]
    assert len(set(numbers)) == 5
    assert [parse_certificate_number(n)[3] for n in numbers] == [1, 2, 3, 4, 5]

    page = client.get("/api/v1/certificates", params={"subject_id": first["id"], "limit": 2}).json()
    assert page["count"] == 3
    assert [item["number"] for item in page["items"]] == [numbers[4], numbers[2]]  # newest first
    rest = client.get(
        "/api/v1/certificates", params={"subject_id": first["id"], "limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [item["number"] for item in rest["items"]] == [numbers[0]]
    assert rest["next_cursor"] is None
    by_uscc = client.get("/api/v1/certificates", params={"holder": entity_body(2)["uscc"]}).json()
    assert by_uscc["count"] == 2
    by_entity = client.get("/api/v1/certificates", params={"holder": other_provider.entity_id}).json()
    assert {i["number"] for i in by_entity["items"]} == {numbers[1], numbers[3]}
    assert by_entity["items"][0]["holder_name"] == "广州市数据局测试单位2"


# ---------------------------------------------------------------- refusals


def test_refused_for_a_subject_that_is_not_registered(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    draft = ok(post(client, "/api/v1/resources", provider.token, resource_body()))
    response = issue(client, operator, resource_id=draft["id"], rights=["holding"])
    assert response.status_code == 409, response.text
    assert "draft" in response.json()["detail"]
    # A registration still under way is not a completed one either.
    reg = ok(
        post(
            client, "/api/v1/registrations", provider.token, {"type": "first", "subject": {"resource_id": draft["id"]}}
        )
    )
    ok(post(client, f"/api/v1/registrations/{reg['id']}/submit", provider.token))
    response = issue(client, operator, registration_id=reg["id"], rights=["holding"])
    assert response.status_code == 409, response.text
    assert "submitted" in response.json()["detail"]


def test_refused_for_core_data(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> None:
    resource = registered_resource(client, clock, provider, operator, security_level="core")
    response = issue(client, operator, resource_id=resource["id"], rights=["holding"])
    assert response.status_code == 409, response.text
    assert "core data" in response.json()["detail"]
    assert "can't get property rights" in response.json()["detail"]


def test_refused_for_an_unverified_holder(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    ok(post(client, f"/api/v1/entities/{provider.entity_id}/suspend", operator, {"reason": "资质过期"}))
    response = issue(client, operator, resource_id=resource["id"], rights=["holding"])
    assert response.status_code == 409, response.text
    assert "suspended" in response.json()["detail"]


def test_product_operating_right_never_goes_to_an_operator(
    client: TestClient, engine: Engine, settings: Settings, clock: FakeClock, provider: Provider, operator: str
) -> None:
    source = registered_resource(client, clock, provider, operator)
    operating = entity_provider(client, engine, settings, operator, 8, "operator")
    product = registered_product(client, clock, operating, operator, source["id"])
    response = issue(client, operator, product_id=product["id"], rights=["holding", "product_operating"])
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["rights"]
    assert "operator" in response.json()["detail"]
    # Nor on a resource, whoever holds it.
    response = issue(client, operator, resource_id=source["id"], rights=["product_operating"])
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["rights"]
    # The other rights are fine for the operator's product.
    assert issue(client, operator, product_id=product["id"], rights=["processing_use"]).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rights": ["ownership"]}, "rights"),
        ({"rights": []}, "rights"),
        ({"rights": ["holding"], "authorisation_ends_on": "2026-01-01"}, "authorisation_ends_on"),
        ({"rights": ["holding"], "scope": ""}, "scope"),
        ({"rights": ["holding"], "registration_id": "01m82bry197bzz9ga4a1p6pg22"}, "registration_id"),
    ],
    ids=["unknown-right", "no-right", "authorisation-ended", "no-scope", "two-targets"],
)
def test_bad_requests_name_the_field(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, body: dict[str, Any], field: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    response = issue(client, operator, resource_id=resource["id"], **body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unknown_subject_is_a_field_problem(client: TestClient, clock: FakeClock, operator: str) -> None:
    response = issue(client, operator, resource_id="01m82bry197bzz9ga4a1p6pg22", rights=["holding"])
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["resource_id"]


# ---------------------------------------------------------------- permissions


def test_who_may_issue_and_revoke(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, consumer: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    body = {"resource_id": resource["id"], "rights": ["holding"]}
    assert issue(client, None, **body).status_code == 401
    assert issue(client, provider.token, **body).status_code == 403
    assert issue(client, consumer, **body).status_code == 403
    number = ok(issue(client, operator, **body))["number"]

    revoke_path = f"/api/v1/certificates/{number}/revoke"
    assert post(client, revoke_path, None, {"reason": "x"}).status_code == 401
    assert post(client, revoke_path, provider.token, {"reason": "x"}).status_code == 403
    assert post(client, revoke_path, consumer, {"reason": "x"}).status_code == 403

    # Everything a verifier reads is public.
    assert client.get(f"/api/v1/certificates/{number}").status_code == 200
    assert client.get(f"/api/v1/certificates/{number}.pdf").status_code == 200
    assert client.get(f"/verify/{number}").status_code == 200
    assert client.get("/api/v1/certificates").status_code == 200
    assert client.get("/status/certificates").status_code == 200
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "valid"


def test_unknown_numbers_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/certificates/20261244010009999").status_code == 404
    assert client.get("/api/v1/certificates/not-a-number").status_code == 404
    assert client.get("/verify/20261244010009999", headers={"Accept": "application/json"}).status_code == 404
    page = client.get("/verify/<script>", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "<script>" not in page.text


# ---------------------------------------------------------------- revocation and cancellation


def test_revocation_flips_the_bit_and_is_logged(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    keep = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    gone = ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use"]))
    path = f"/api/v1/certificates/{gone['number']}/revoke"
    missing = post(client, path, operator, {})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["reason"]

    revoked = ok(post(client, path, operator, {"reason": "授权协议已提前终止"}))
    assert revoked["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{gone['number']}").json()["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{keep['number']}").json()["status"] == "valid"
    again = post(client, path, operator, {"reason": "twice"})
    assert again.status_code == 409

    listed = client.get("/status/certificates").json()
    bits = status_list.decode_bits(listed["credentialSubject"]["encodedList"])
    assert status_list.bit_at(bits, int(gone["credential"]["credentialStatus"]["statusListIndex"]))
    assert not status_list.bit_at(bits, int(keep["credential"]["credentialStatus"]["statusListIndex"]))
    with session_scope(engine) as session:
        kinds = [e.kind for e in session.exec(select(LogEntry).order_by(LogEntry.idx)).all()]  # type: ignore[arg-type]
        assert kinds[-2:] == ["status_list.published", "certificate.revoked"]
        assert kinds.count("status_list.published") == 2  # the first list, then the one with the bit set
        row = session.exec(select(Certificate).where(Certificate.number == gone["number"])).one()
        assert row.revoked_reason == "授权协议已提前终止"
        assert list(certificate_audit.audit_certificates(session)) == []

    view = client.get(f"/verify/{gone['number']}", headers={"Accept": "application/json"}).json()
    assert view["status"] == "revoked"
    assert view["signature_ok"] and view["log_inclusion_ok"]
    assert next(c for c in view["checks"] if c["name"] == "revocation")["ok"] is False


def test_a_cancellation_revokes_the_subjects_certificates(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    other = registered_resource(client, clock, provider, operator, name="海珠区公共停车场数据")
    first = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    second = ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use"]))["number"]
    unrelated = ok(issue(client, operator, resource_id=other["id"], rights=["holding"]))["number"]

    body = {"type": "cancellation", "subject": {"resource_id": resource["id"]}}
    reg = ok(post(client, "/api/v1/registrations", provider.token, body))
    done = register(client, clock, provider, operator, reg["id"])
    assert done["state"] == "registered"
    assert client.get(f"/api/v1/resources/{resource['id']}").json()["status"] == "cancelled"
    for number in (first, second):
        assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{unrelated}").json()["status"] == "valid"
    listed = client.get("/status/certificates").json()
    bits = status_list.decode_bits(listed["credentialSubject"]["encodedList"])
    indexes = [
        int(client.get(f"/api/v1/certificates/{n}").json()["credential"]["credentialStatus"]["statusListIndex"])
        for n in (first, second, unrelated)
    ]
    assert [status_list.bit_at(bits, i) for i in indexes] == [True, True, False]
    # A cancelled subject gets no new certificate.
    assert issue(client, operator, resource_id=resource["id"], rights=["holding"]).status_code == 409


def test_expired_status(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(
        issue(client, operator, resource_id=resource["id"], rights=["holding"], authorisation_ends_on="2027-01-31")
    )["number"]
    clock.set_china(date(2027, 2, 1))
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "expired"
    clock.set_china(date(2027, 1, 31) - timedelta(days=1))
    assert client.get(f"/api/v1/certificates/{number}").json()["status"] == "valid"


# ---------------------------------------------------------------- audit


def test_audit_finds_a_changed_certificate_row(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use"]))
    with session_scope(engine) as session:
        assert list(certificate_audit.audit_certificates(session)) == []
        row = session.exec(select(Certificate).where(Certificate.number == number)).one()
        credential = dict(row.credential)
        credential["credentialSubject"] = {**credential["credentialSubject"], "scope": "在全国范围内用于交通规划研究"}
        row.credential = credential
        session.add(row)
        session.commit()
    with session_scope(engine) as session:
        problems = list(certificate_audit.audit_certificates(session))
    assert len(problems) == 1
    assert number in problems[0] and "credential_sha256" in problems[0]

    with session_scope(engine) as session:
        row = session.exec(select(Certificate).where(Certificate.number == number)).one()
        row.credential = credential | {
            "credentialSubject": {**credential["credentialSubject"], "scope": "在广州市范围内用于交通规划研究"}
        }
        row.holder_uscc = str(entity_body(2)["uscc"])
        session.add(row)
        session.commit()
    with session_scope(engine) as session:
        problems = list(certificate_audit.audit_certificates(session))
    assert problems == [
        f"certificate {number} (row {row.id}): column holder_uscc does not match log entry {row.log_index}"
    ]


# ---------------------------------------------------------------- the verification page


def test_verify_page_html_and_json(client: TestClient, clock: FakeClock, provider: Provider, operator: str) -> None:
    resource = registered_resource(client, clock, provider, operator, name='<b>充电桩</b> & "数据"')
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding", "processing_use"]))["number"]
    page = client.get(f"/verify/{number}", headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<b>充电桩</b>" not in html
    assert "&lt;b&gt;充电桩&lt;/b&gt; &amp; &quot;数据&quot;" in html
    assert "有效" in html and "Valid" in html
    assert "数据资源持有权" in html and "数据加工使用权" in html
    assert html.count("✓ 通过 passed") >= 2  # signature and log inclusion

    view = client.get(f"/verify/{number}", headers={"Accept": "application/json"}).json()
    assert view["status"] == "valid"
    assert view["signature_ok"] is True
    assert view["log_inclusion_ok"] is True
    assert view["holder"]["uscc"] == entity_body(1)["uscc"]
    assert view["subject"]["code"] == resource["code"]
    assert view["rights"] == ["holding", "processing_use"]
    assert view["valid_until"] == "2029-12-08T02:00:00Z"
    assert all(check["ok"] for check in view["checks"])


# ---------------------------------------------------------------- the issuing body's name


NAMED = {"PDR_ISSUER_NAME": " 广州数据交易所数据登记中心 ", "PDR_ISSUER_NAME_EN": "Guangzhou Data Registration Centre"}


def test_the_issuing_body_is_named_by_the_setting_and_issued_names_never_change(
    client: TestClient,
    clock: FakeClock,
    provider: Provider,
    operator: str,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    before = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    for name, value in NAMED.items():
        monkeypatch.setenv(name, value)
    # The service restarted with the name set: a new app on the same database, reading the environment.
    renamed = create_app(
        Settings(db=settings.db, objects=settings.objects, auth=settings.auth, base_url=settings.base_url)
    )
    renamed.state.clock = clock
    with TestClient(renamed) as named_client:
        after = ok(issue(named_client, operator, resource_id=resource["id"], rights=["processing_use"]))
        earlier = named_client.get(f"/api/v1/certificates/{before['number']}").json()

    issuer = after["credential"]["issuer"]
    assert issuer["name"] == [
        {"@value": "广州数据交易所数据登记中心", "@language": "zh-CN"},
        {"@value": "Guangzhou Data Registration Centre", "@language": "en"},
    ]
    assert issuer["id"] == before["credential"]["issuer"]["id"]
    assert after["credential"]["proof"]["verificationMethod"].startswith(issuer["id"] + "#")
    # A signed credential is never rewritten: the one issued before keeps the name it was signed with.
    assert earlier["credential"] == before["credential"]
    assert earlier["credential"]["issuer"]["name"][0]["@value"] == "公共数据登记机构"
    # The log names the issuer by its DID alone, so the name changes no log entry's shape.
    assert f'"issuer":"{issuer["id"]}"' in log_entry(engine, after["log_index"]).data.decode()
    # Both verify as an outsider would, with the published trust document and status list.
    with session_scope(engine) as session:
        trust = verifier.Trust.from_document(verifier.trust_document(session, settings))
    listed = client.get("/status/certificates").json()
    for bundle in (earlier, after):
        report = verifier.verify_bundle(
            bundle, trust, at=datetime(2027, 1, 1, tzinfo=UTC), status_list_credential=listed
        )
        assert report.exit_code == verifier.EXIT_VERIFIED, report.as_dict()


@pytest.mark.parametrize(("value", "problem"), [("   ", "must not be blank"), ("登记\x07中心", "control characters")])
def test_an_issuer_name_must_be_printable(value: str, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDR_ISSUER_NAME", value)
    with pytest.raises(ValidationError, match=problem):
        Settings()
