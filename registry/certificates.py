"""Property-right certificates: W3C VC 2.0 credentials signed with eddsa-jcs-2022, logged, and revocable.

A certificate is issued by the registry's staff for a registered resource or product. The credential is
signed with the active issuer key, its RFC 8785 SHA-256 goes into a ``certificate.issued`` log event, and the
row keeps the credential and the event's log index. Everything in that event is derived from the credential
alone (see :func:`issued_event`), so an offline verifier rebuilds the leaf from the credential it holds and
checks its inclusion under a signed checkpoint: changing one byte of the credential breaks the proof.

Revocation sets the certificate's bit in the Bitstring Status List (a new signed, logged version of the list)
and logs ``certificate.revoked``. A cancellation registration revokes its subject's certificates the same way,
in the transaction that registers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import SYSTEM, Caller
from registry import events, log, status_list
from registry.codes import make_certificate_number, parse_certificate_number
from registry.config import RegistrySettings
from registry.context import keyring_of
from registry.counters import next_value
from registry.credentials import did_key_verification_method, sign_credential
from registry.deadlines import china_date, china_midnight_utc
from registry.enums import (
    FINAL_STATES,
    EntityKind,
    EntityStatus,
    RegistrationState,
    RegistrationType,
    SecurityLevel,
    SubjectStatus,
    SubjectType,
)
from registry.keys import ISSUER, public_key_of
from registry.models import Certificate, Entity, LogEntry, Registration, StatusListVersion
from registry.subjects import Subject, load_subject
from registry.tlog_proof import format_tlog_proof
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

ISSUED = "certificate.issued"
REVOKED = "certificate.revoked"
CERTIFICATE_TYPE = "DataPropertyRightCertificate"
HOLDER_TYPE = "DataPropertyRightHolder"
ID_PREFIX = "urn:pdr:certificate:"
VALID = "valid"
REVOKED_STATUS = "revoked"
EXPIRED = "expired"

# The "three rights" of the Data Twenty Articles (数据二十条), in their canonical order.
RIGHTS: dict[str, tuple[str, str]] = {
    "holding": ("数据资源持有权", "Data resource holding right"),
    "processing_use": ("数据加工使用权", "Data processing and use right"),
    "product_operating": ("数据产品经营权", "Data product operating right"),
}
SUBJECT_TYPES = {SubjectType.resource: "DataResource", SubjectType.product: "DataProduct"}


class CertificateRequest(BaseModel):
    """What staff send to issue a certificate: the registration or the subject, the rights and the scope."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    registration_id: str | None = Field(default=None, max_length=26)
    resource_id: str | None = Field(default=None, max_length=26)
    product_id: str | None = Field(default=None, max_length=26)
    rights: list[str] = Field(max_length=10)
    scope: str = Field(min_length=1, max_length=2000)
    authorisation_ends_on: date | None = None


@dataclass(frozen=True)
class _Target:
    registration: Registration
    subject: Subject
    subject_type: SubjectType
    holder: Entity


# ---------------------------------------------------------------- the credential


def context_url(base_url: str) -> str:
    """The URL of pdr's JSON-LD context for certificates."""
    return f"{base_url.rstrip('/')}/contexts/pdr/v1"


def context_document(base_url: str) -> dict[str, Any]:
    """pdr's JSON-LD context: the terms a certificate uses beyond the VC 2.0 context."""
    vocab = context_url(base_url) + "#"
    terms = [
        CERTIFICATE_TYPE,
        HOLDER_TYPE,
        "DataResource",
        "DataProduct",
        "uscc",
        "entityKind",
        "registeredData",
        "subjectType",
        "code",
        "registrationCode",
        "revision",
        "rights",
        "scope",
    ]
    context: dict[str, Any] = {"@version": 1.1, "@protected": True, "pdr": vocab}
    context.update({term: f"pdr:{term}" for term in terms})
    context["registeredData"] = {"@id": "pdr:registeredData", "@type": "@id"}
    context["rights"] = {"@id": "pdr:rights", "@container": "@set"}
    return {"@context": context}


def certificate_id(number: str) -> str:
    """The credential id of a certificate number."""
    return ID_PREFIX + number


def number_of(credential: dict[str, Any]) -> str:
    """The certificate number in a credential's id; ValueError when it carries none."""
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id.startswith(ID_PREFIX):
        raise ValueError("the credential's id is not a pdr certificate id")
    number = credential_id[len(ID_PREFIX) :]
    parse_certificate_number(number)
    return number


def rfc3339(moment: datetime) -> str:
    """A UTC time as RFC 3339 / XSD dateTime with a Z, to the second."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def parse_rfc3339(value: object) -> datetime:
    """A timezone-aware time from RFC 3339 text; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a date-time string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("date-time without a time zone")
    return moment


def issued_event(credential: dict[str, Any]) -> log.Event:
    """The ``certificate.issued`` event of a signed credential, rebuilt from the credential alone."""
    number = number_of(credential)
    subject = credential["credentialSubject"]
    data = subject["registeredData"]
    subject_type = str(data["subjectType"])
    data_id = str(data["id"])
    prefix = f"urn:pdr:{subject_type}:"
    if not data_id.startswith(prefix):
        raise ValueError("registeredData.id does not match its subjectType")
    body = {
        "number": number,
        "subject_type": subject_type,
        "subject_id": data_id[len(prefix) :],
        "holder_uscc": str(subject["uscc"]),
        "issuer": str(credential["issuer"]),
        "credential_sha256": status_list.sha256_jcs(credential),
    }
    return log.Event(kind=ISSUED, subject=f"certificate:{number}", body=body, at=parse_rfc3339(credential["validFrom"]))


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _valid_until(now: datetime, settings: RegistrySettings, ends_on: date | None) -> datetime:
    until = _add_years(now, settings.certificate_validity_years)
    if ends_on is None:
        return until
    # The authorisation lasts to the end of its last day, in China's time.
    ends = china_midnight_utc(ends_on + timedelta(days=1)) - timedelta(seconds=1)
    if ends <= now:
        raise InvalidInput(
            f"the authorisation ended on {ends_on}, before today",
            errors=[FieldProblem("authorisation_ends_on", "must not be in the past")],
        )
    return min(until, ends)


def _rights(raw: list[str], target: _Target) -> list[str]:
    unknown = [right for right in raw if right not in RIGHTS]
    if unknown:
        raise InvalidInput(
            "unknown rights: " + ", ".join(unknown),
            errors=[FieldProblem("rights", f"each one of {', '.join(RIGHTS)}")],
        )
    if not raw:
        raise InvalidInput("a certificate grants at least one right", errors=[FieldProblem("rights", "empty")])
    if "product_operating" in raw:
        if target.subject_type != SubjectType.product:
            raise InvalidInput(
                "the product operating right is granted on a data product, not a resource",
                errors=[FieldProblem("rights", "product_operating needs a product")],
            )
        if target.holder.kind != EntityKind.merchant:
            # Guangzhou separates operation from product building (运商分离): the right goes to the merchant.
            raise InvalidInput(
                f"the product operating right goes to the data merchant that owns the product, "
                f"never to an entity of kind {target.holder.kind}",
                errors=[FieldProblem("rights", "product_operating only for a merchant's product")],
            )
    return [right for right in RIGHTS if right in raw]


def _latest_registered(session: Session, subject_id: str) -> Registration | None:
    return session.exec(
        select(Registration)
        .where(
            Registration.subject_id == subject_id,
            Registration.state == RegistrationState.registered,
            Registration.type != RegistrationType.cancellation,
        )
        .order_by(col(Registration.registered_at).desc(), col(Registration.id).desc())
        .limit(1)
    ).first()


def _target(session: Session, data: CertificateRequest) -> _Target:
    given = [name for name in ("registration_id", "resource_id", "product_id") if getattr(data, name)]
    if len(given) != 1:
        raise InvalidInput(
            "name exactly one of registration_id, resource_id and product_id",
            errors=[FieldProblem(name, "exactly one") for name in ("registration_id", "resource_id", "product_id")],
        )
    if data.registration_id:
        named = session.get(Registration, data.registration_id)
        if named is None:
            raise InvalidInput("no such registration", errors=[FieldProblem("registration_id", "no such registration")])
        if named.state != RegistrationState.registered or named.type == RegistrationType.cancellation:
            raise Conflict(f"the registration is {named.state}; certificates follow a completed registration")
        subject_type, subject_id = SubjectType(named.subject_type), named.subject_id
    else:
        subject_type = SubjectType.resource if data.resource_id else SubjectType.product
        subject_id = str(data.resource_id or data.product_id)
    try:
        subject = load_subject(session, subject_type, subject_id)
    except NotFound:
        field = "registration_id" if data.registration_id else f"{subject_type.value}_id"
        raise InvalidInput(f"no such {subject_type.value}", errors=[FieldProblem(field, "not found")]) from None
    if subject.status != SubjectStatus.registered:
        raise Conflict(f"the {subject_type.value} is {subject.status}; only a registered one gets a certificate")
    registration = _latest_registered(session, subject.id)
    if registration is None:
        raise Conflict(f"the {subject_type.value} has no completed registration")
    if data.registration_id and registration.id != data.registration_id:
        raise Conflict(f"the registration was superseded by {registration.code}; issue on the latest one")
    open_cancellation = session.exec(
        select(Registration.id).where(
            Registration.subject_id == subject.id,
            Registration.type == RegistrationType.cancellation,
            col(Registration.state).not_in([s.value for s in FINAL_STATES]),
        )
    ).first()
    if open_cancellation is not None:
        raise Conflict(f"a cancellation of the {subject_type.value} is under way ({open_cancellation})")
    if subject.security_level == SecurityLevel.core:
        raise Conflict("core data (GB/T 43697-2024 security level core) can't get property rights")
    holder = session.get(Entity, subject.entity_id)
    assert holder is not None
    if holder.status != EntityStatus.verified:
        raise Conflict(f"the holder entity is {holder.status}; certificates go to verified entities only")
    return _Target(registration, subject, subject_type, holder)


def _credential_subject(target: _Target, rights: list[str], scope: str) -> dict[str, Any]:
    subject, holder = target.subject, target.holder
    return {
        "id": f"urn:pdr:entity:{holder.id}",
        "type": HOLDER_TYPE,
        "name": holder.name,
        "uscc": holder.uscc,
        "entityKind": holder.kind,
        "registeredData": {
            "id": f"urn:pdr:{target.subject_type.value}:{subject.id}",
            "type": SUBJECT_TYPES[target.subject_type],
            "subjectType": target.subject_type.value,
            "code": subject.code,
            "name": subject.name,
            "revision": subject.revision,
            "registrationCode": target.registration.code,
        },
        "rights": rights,
        "scope": scope,
    }


def issue(
    session: Session, caller: Caller, settings: RegistrySettings, base_url: str, data: CertificateRequest
) -> Certificate:
    """Staff issue a signed, logged certificate for a registered subject."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff issue certificates")
    # First, so that a cancellation of the subject either sees this certificate or is seen by it.
    status_list.lock(session)
    target = _target(session, data)
    rights = _rights(data.rights, target)
    scope = data.scope.strip()
    # Whole seconds: validFrom, the proof's created and the log event's time must be the same text.
    now = now_of(session).astimezone(UTC).replace(microsecond=0)
    valid_until = _valid_until(now, settings, data.authorisation_ends_on)
    today = china_date(now)
    serial = next_value(session, f"certificate:{today.year:04d}{today.month:02d}")
    number = make_certificate_number(today.year, today.month, settings.registry_code, serial)
    slot = status_list.allocate(session, base_url)
    key, private_key = keyring_of(session).signer(session, ISSUER)
    unsigned: dict[str, Any] = {
        "@context": [status_list.VC_V2_CONTEXT, context_url(base_url)],
        "id": certificate_id(number),
        "type": ["VerifiableCredential", CERTIFICATE_TYPE],
        "name": "数据产权登记证书 Data Property Right Certificate",
        "issuer": key.name,
        "validFrom": rfc3339(now),
        "validUntil": rfc3339(valid_until),
        "credentialSubject": _credential_subject(target, rights, scope),
        "credentialStatus": {
            "id": f"{slot.list_url}#{slot.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": status_list.STATUS_PURPOSE,
            "statusListIndex": str(slot.index),
            "statusListCredential": slot.list_url,
        },
    }
    credential = sign_credential(unsigned, private_key, did_key_verification_method(public_key_of(key)), now)
    event = issued_event(credential)
    log_index = log.append(session, keyring_of(session), [event])[0]
    certificate = Certificate(
        number=number,
        subject_type=target.subject_type.value,
        subject_id=target.subject.id,
        registration_id=target.registration.id,
        entity_id=target.holder.id,
        holder_uscc=target.holder.uscc,
        rights=rights,
        scope=scope,
        valid_from=now,
        valid_until=valid_until,
        credential=credential,
        credential_sha256=str(event.body["credential_sha256"]),
        issuer_key_id=key.id,
        status_list=slot.list_name,
        status_index=slot.index,
        log_index=log_index,
        issued_by=caller.account_id,
        created_at=now,
    )
    session.add(certificate)
    audit.record(session, caller, "certificate.issue", f"certificate:{number}")
    session.commit()
    return certificate


# ---------------------------------------------------------------- reading


def get_certificate(session: Session, number: str) -> Certificate:
    """A certificate by its number, or 404."""
    try:
        parse_certificate_number(number)
    except ValueError:
        raise NotFound("no such certificate") from None
    found = session.exec(select(Certificate).where(Certificate.number == number.strip())).first()
    if found is None:
        raise NotFound("no such certificate")
    return found


def status_of(certificate: Certificate, now: datetime) -> str:
    """valid, revoked or expired, at a moment."""
    if certificate.status == REVOKED_STATUS:
        return REVOKED_STATUS
    return EXPIRED if now > certificate.valid_until else VALID


def tlog_proof(session: Session, certificate: Certificate) -> str:
    """The c2sp.org/tlog-proof of the certificate's issued event under the latest checkpoint."""
    checkpoint = log.latest_checkpoint(session)
    if checkpoint is None or certificate.log_index is None:
        raise Conflict("the certificate is not in the transparency log")
    proof = log.inclusion(session, certificate.log_index, checkpoint.tree_size)
    return format_tlog_proof(certificate.log_index, proof, checkpoint.note)


def bundle(session: Session, certificate: Certificate) -> dict[str, Any]:
    """The public bundle: the credential, its tlog proof and its current status."""
    return {
        "number": certificate.number,
        "credential": certificate.credential,
        "tlog_proof": tlog_proof(session, certificate),
        "status": status_of(certificate, now_of(session)),
        "log_index": certificate.log_index,
    }


def list_certificates(
    session: Session, *, holder: str | None, subject_id: str | None, limit: int, cursor: str | None
) -> PageOf[Certificate]:
    """Certificates, newest first; holder is an entity id or a USCC."""
    statement = select(Certificate)
    if holder:
        holder = holder.strip()
        statement = statement.where(
            or_(col(Certificate.entity_id) == holder, col(Certificate.holder_uscc) == holder.upper())
        )
    if subject_id:
        statement = statement.where(Certificate.subject_id == subject_id.strip())
    return paginate_by_id(session, statement, Certificate.id, limit=limit, cursor=cursor)


# ---------------------------------------------------------------- revoking


def _revoke_rows(session: Session, candidates: list[Certificate], reason: str, caller: Caller) -> list[Certificate]:
    """Revoke the live ones among the certificates, publish the list once and log each; returns those revoked."""
    now = now_of(session)
    revoked = []
    for certificate in candidates:
        # Guarded, so that of two concurrent revocations of one certificate only one takes effect.
        result = session.execute(
            update(Certificate)
            .where(col(Certificate.id) == certificate.id, col(Certificate.status) != REVOKED_STATUS)
            .values(status=REVOKED_STATUS, revoked_at=now, revoked_reason=reason, revoked_by=caller.account_id)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(certificate)
            revoked.append(certificate)
    if not revoked:
        return []
    version = status_list.publish(session, None)
    for certificate in revoked:
        certificate.revoked_log_index = events.emit(
            session,
            REVOKED,
            f"certificate:{certificate.number}",
            {
                "number": certificate.number,
                "reason": reason,
                "status_list": certificate.status_list,
                "status_index": certificate.status_index,
                "status_list_version": version.version,
            },
        )
        session.add(certificate)
    return revoked


def revoke(session: Session, caller: Caller, number: str, reason: str | None) -> Certificate:
    """Staff revoke a certificate, stating why: its status bit is set in a new, signed list version."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff revoke certificates")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("a revocation states its reason", errors=[FieldProblem("reason", "required")])
    status_list.lock(session)
    certificate = get_certificate(session, number)
    if certificate.status == REVOKED_STATUS or not _revoke_rows(session, [certificate], text, caller):
        raise Conflict("the certificate is already revoked")
    audit.record(session, caller, "certificate.revoke", f"certificate:{certificate.number}")
    session.commit()
    return certificate


def revoke_for_cancelled_subject(session: Session, registration: Registration) -> list[Certificate]:
    """Revoke every live certificate of a subject whose cancellation registers, in the caller's transaction."""
    # Under the log's lock, a certificate issued concurrently is either seen here or sees the cancellation.
    status_list.lock(session)
    live = list(
        session.exec(
            select(Certificate)
            .where(Certificate.subject_id == registration.subject_id, Certificate.status != REVOKED_STATUS)
            .order_by(col(Certificate.id))
        ).all()
    )
    if not live:
        return []
    reason = f"the {registration.subject_type} was cancelled (registration {registration.id})"
    return _revoke_rows(session, live, reason, SYSTEM)


# ---------------------------------------------------------------- audit


def _differences(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    fields = [k for k in ("kind", "subject", "at") if stored.get(k) != wanted.get(k)]
    body, wanted_body = stored.get("body") or {}, wanted.get("body") or {}
    return fields + [k for k in sorted(set(body) | set(wanted_body)) if body.get(k) != wanted_body.get(k)]


def _audit_certificate(session: Session, certificate: Certificate) -> Iterator[str]:
    where = f"certificate {certificate.number} (row {certificate.id})"
    entry = session.get(LogEntry, certificate.log_index) if certificate.log_index is not None else None
    if entry is None:
        yield f"{where}: its certificate.issued log entry {certificate.log_index} is missing"
        return
    try:
        stored = json.loads(entry.data)
        logged = stored["body"]
    except (ValueError, KeyError, TypeError):
        yield f"{where}: log entry {entry.idx} is not an event envelope"
        return
    # The credential must rebuild the logged entry byte for byte ...
    try:
        expected = log.envelope_bytes(issued_event(certificate.credential))
    except (KeyError, TypeError, ValueError) as exc:
        yield f"{where}: its stored credential is malformed ({exc})"
    else:
        if expected != entry.data:
            fields = ", ".join(_differences(stored, json.loads(expected))) or "its bytes"
            yield f"{where}: its stored credential differs from log entry {entry.idx} in {fields}"
    # ... and the row's own columns must say what the entry says.
    columns = {
        "number": certificate.number,
        "credential_sha256": certificate.credential_sha256,
        "holder_uscc": certificate.holder_uscc,
        "subject_id": certificate.subject_id,
        "subject_type": certificate.subject_type,
    }
    for name, value in columns.items():
        if logged.get(name) != value:
            yield f"{where}: column {name} does not match log entry {entry.idx}"
    if certificate.status == REVOKED_STATUS:
        revoked = session.get(LogEntry, certificate.revoked_log_index) if certificate.revoked_log_index else None
        if (
            revoked is None
            or revoked.kind != REVOKED
            or json.loads(revoked.data)["body"].get("number") != certificate.number
        ):
            yield f"{where}: is revoked but its certificate.revoked log entry is missing or names another"


def _audit_status_list(session: Session, version: StatusListVersion) -> Iterator[str]:
    where = f"status list {version.list_name} version {version.version}"
    entry = session.get(LogEntry, version.log_index) if version.log_index is not None else None
    if entry is None or entry.kind != "status_list.published":
        yield f"{where}: its status_list.published log entry is missing"
        return
    body = json.loads(entry.data).get("body", {})
    digest = status_list.sha256_jcs(version.credential)
    if body.get("credential_sha256") != digest or digest != version.credential_sha256:
        yield f"{where}: its credential does not match log entry {version.log_index}"
    if body.get("version") != version.version or body.get("length") != version.length:
        yield f"{where}: version or length does not match log entry {version.log_index}"


def audit_certificates(session: Session, batch: int = 1000) -> Iterator[str]:
    """A message for every certificate or status list row that does not match its log entry."""
    after = ""
    while True:
        rows = session.exec(
            select(Certificate).where(col(Certificate.id) > after).order_by(col(Certificate.id)).limit(batch)
        ).all()
        if not rows:
            break
        for certificate in rows:
            yield from _audit_certificate(session, certificate)
        after = rows[-1].id
    versions = session.exec(
        select(StatusListVersion).order_by(col(StatusListVersion.list_name), col(StatusListVersion.version))
    ).all()
    for version in versions:
        yield from _audit_status_list(session, version)


def describe_rights(rights: list[str]) -> list[tuple[str, str, str]]:
    """(code, Chinese label, English label) for each right, in canonical order."""
    return [(right, *RIGHTS.get(right, (right, right))) for right in rights]


def holder_and_subject(certificate: Certificate) -> tuple[dict[str, Any], dict[str, Any]]:
    """The holder and the registered data as the credential names them."""
    subject = certificate.credential.get("credentialSubject", {})
    return subject, subject.get("registeredData", {})
