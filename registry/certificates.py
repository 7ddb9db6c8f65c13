"""Property-right certificates: W3C VC 2.0 credentials signed with eddsa-jcs-2022, logged, and revocable.

A certificate is issued by the registry's staff for a registered resource or product. The credential is
signed with the active issuer key, its RFC 8785 SHA-256 goes into a ``certificate.issued`` log event, and the
row keeps the credential and the event's log index. Everything in that event is derived from the credential
alone (see :mod:`registry.certificate_credential`), so an offline verifier rebuilds the leaf from the credential it
holds and checks its inclusion under a signed checkpoint: changing one byte of the credential breaks the proof.

Revocation sets the certificate's bit in the Bitstring Status List (a new signed, logged version of the list)
and logs ``certificate.revoked``. A cancellation registration revokes its subject's certificates the same way,
in the transaction that registers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import SYSTEM, Caller
from auth.models import AuditEvent
from registry import events, log, status_list
from registry.certificate_credential import (
    CERTIFICATE_TYPE,
    HOLDER_TYPE,
    REVOKED,
    REVOKED_STATUS,
    RIGHTS,
    SUBJECT_TYPES,
    certificate_id,
    context_url,
    holder_and_subject,
    issued_event,
    issuer_object,
    rfc3339,
    status_of,
)
from registry.certificate_targets import Target, target
from registry.codes import make_certificate_number, parse_certificate_number
from registry.config import IssuerName, RegistrySettings
from registry.context import issuer_name_of, keyring_of
from registry.counters import next_ranges
from registry.credentials import did_key_verification_method, sign_credential
from registry.deadlines import china_date, china_midnight_utc
from registry.enums import (
    EntityKind,
    SubjectType,
)
from registry.issue_head import read_ahead
from registry.keys import ISSUER, LOG, public_key_of
from registry.models import Certificate, Registration
from registry.schemas import CertificateRequest, CertificateSummary
from registry.status_list import Allocation
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id
from storage.together import adopt, insert_together, instance_rows

# ---------------------------------------------------------------- issuing


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


def _rights(raw: list[str], target: Target) -> list[str]:
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


def _credential_subject(target: Target, rights: list[str], scope: str) -> dict[str, Any]:
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


@dataclass(frozen=True)
class Preview:
    """What a certificate issued now would say, before it has a number, a status slot or a signature."""

    target: Target
    rights: list[str]
    scope: str
    valid_from: datetime
    valid_until: datetime
    issuer_name: IssuerName

    @property
    def credential_subject(self) -> dict[str, Any]:
        """The credential's subject exactly as issuing signs it."""
        return _credential_subject(self.target, self.rights, self.scope)


def preview(session: Session, caller: Caller, settings: RegistrySettings, data: CertificateRequest) -> Preview:
    """What issuing `data` now would certify, refused as issuing would refuse it, without writing anything."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff issue certificates")
    return preview_for(session, settings, data, target(session, data))


def preview_for(session: Session, settings: RegistrySettings, data: CertificateRequest, target: Target) -> Preview:
    """What issuing `data` on its checked target now would certify."""
    rights = _rights(data.rights, target)
    # Whole seconds: validFrom, the proof's created and the log event's time must be the same text.
    now = now_of(session).astimezone(UTC).replace(microsecond=0)
    valid_until = _valid_until(now, settings, data.authorisation_ends_on)
    return Preview(target, rights, data.scope.strip(), now, valid_until, issuer_name_of(session))


@dataclass(frozen=True)
class Terms:
    """What a certificate grants, to whom, on what and for how long."""

    target: Target
    number: str
    rights: list[str]
    scope: str
    valid_from: datetime
    valid_until: datetime


def terms_of(shown: Preview, number: str) -> Terms:
    """A preview's terms under the number the certificate is issued with."""
    return Terms(shown.target, number, shown.rights, shown.scope, shown.valid_from, shown.valid_until)


def unsigned_credential(terms: Terms, slot: Allocation, issuer: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The credential a certificate's terms make, before it is signed."""
    return {
        "@context": [status_list.VC_V2_CONTEXT, context_url(base_url)],
        "id": certificate_id(terms.number),
        "type": ["VerifiableCredential", CERTIFICATE_TYPE],
        "name": "数据产权登记证书 Data Property Right Certificate",
        "issuer": issuer,
        "validFrom": rfc3339(terms.valid_from),
        "validUntil": rfc3339(terms.valid_until),
        "credentialSubject": _credential_subject(terms.target, terms.rights, terms.scope),
        "credentialStatus": status_list.status_entry(slot),
    }


def issue(
    session: Session, caller: Caller, settings: RegistrySettings, base_url: str, data: CertificateRequest
) -> Certificate:
    """Staff issue a signed, logged certificate for a registered subject."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff issue certificates")
    # First, so that a cancellation of the subject either sees this certificate or is seen by it.
    status_list.lock(session)
    [certificate] = issue_previews(session, caller, settings, base_url, [preview(session, caller, settings, data)])
    session.commit()
    return certificate


def issue_previews(
    session: Session, caller: Caller, settings: RegistrySettings, base_url: str, shown: list[Preview]
) -> list[Certificate]:
    """Number, place, sign, log and record the certificates of checked previews, in the order given, in the caller's
    transaction and under the status list's lock; single and batch issues alike."""
    today = china_date(shown[0].valid_from)
    serials, bits = f"certificate:{today.year:04d}{today.month:02d}", status_list.counter_name()
    # One statement takes both ranges: the serial numbers and the status-list bits.
    taken = next_ranges(session, [serials, bits], len(shown))
    numbers = [make_certificate_number(today.year, today.month, settings.registry_code, n) for n in taken[serials]]
    keyring = keyring_of(session)
    # The issuer's key signs the credentials, the log's the checkpoint.
    ahead = read_ahead(session, keyring, base_url, taken[bits])
    slots, signers = ahead.slots, ahead.signers
    key, private_key = signers[ISSUER]
    issuer = issuer_object(key.name, issuer_name_of(session))
    method = did_key_verification_method(public_key_of(key))
    terms = [terms_of(one, number) for one, number in zip(shown, numbers, strict=True)]
    credentials = [
        sign_credential(unsigned_credential(t, slot, issuer, base_url), private_key, method, t.valid_from)
        for t, slot in zip(terms, slots, strict=True)
    ]
    logged = [issued_event(credential) for credential in credentials]
    appended = log.prepare_append(session, keyring, logged, signers[LOG], ahead.log_head)
    rows = [
        certificate_row(t, credential, event, key.id, slot, index, caller)
        for t, credential, event, slot, index in zip(terms, credentials, logged, slots, appended.indexes, strict=True)
    ]
    audits = [audit.audit_event(session, caller, "certificate.issue", f"certificate:{row.number}") for row in rows]
    # The log's rows, the audit trail's and the certificates' in one statement where the database allows it.
    insert_together(session, [*appended.writes, instance_rows(AuditEvent, audits), instance_rows(Certificate, rows)])
    adopt(session, rows)
    return rows


def certificate_row(
    terms: Terms,
    credential: dict[str, Any],
    event: log.Event,
    key_id: str,
    slot: Allocation,
    log_index: int,
    caller: Caller,
) -> Certificate:
    """The row of a signed, logged certificate."""
    target = terms.target
    return Certificate(
        number=terms.number,
        subject_type=target.subject_type.value,
        subject_id=target.subject.id,
        registration_id=target.registration.id,
        entity_id=target.holder.id,
        holder_uscc=target.holder.uscc,
        rights=terms.rights,
        scope=terms.scope,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        credential=credential,
        credential_sha256=str(event.body["credential_sha256"]),
        issuer_key_id=key_id,
        status_list=slot.list_name,
        status_index=slot.index,
        log_index=log_index,
        issued_by=caller.account_id,
        created_at=terms.valid_from,
    )


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


def current_status(session: Session, certificate: Certificate) -> str:
    """valid, revoked or expired, at the moment the session's use case runs at."""
    return status_of(certificate, now_of(session))


def tlog_proof(session: Session, certificate: Certificate) -> str:
    """The c2sp.org/tlog-proof of the certificate's issued event under the latest checkpoint."""
    if certificate.log_index is None:
        raise Conflict("the certificate is not in the transparency log")
    return log.proof_text(session, certificate.log_index, "certificate")


def bundle(session: Session, certificate: Certificate) -> dict[str, Any]:
    """The public bundle: the credential, its tlog proof and its current status."""
    return {
        "number": certificate.number,
        "credential": certificate.credential,
        "tlog_proof": tlog_proof(session, certificate),
        "status": current_status(session, certificate),
        "log_index": certificate.log_index,
    }


def summary(certificate: Certificate, now: datetime) -> CertificateSummary:
    """A certificate as a list shows it, its status read at `now`."""
    holder, data = holder_and_subject(certificate)
    return CertificateSummary(
        id=certificate.id,
        number=certificate.number,
        status=status_of(certificate, now),
        subject_type=certificate.subject_type,
        subject_id=certificate.subject_id,
        entity_id=certificate.entity_id,
        holder_uscc=certificate.holder_uscc,
        holder_name=str(holder.get("name", "")),
        subject_name=str(data.get("name", "")),
        rights=certificate.rights,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        log_index=certificate.log_index,
    )


def list_certificates(
    session: Session, *, holder: str | None, subject_id: str | None, limit: int, cursor: str | None
) -> PageOf[CertificateSummary]:
    """Certificates as a list shows them, newest first; holder is an entity id or a USCC."""
    statement = select(Certificate)
    if holder:
        holder = holder.strip()
        statement = statement.where(
            or_(col(Certificate.entity_id) == holder, col(Certificate.holder_uscc) == holder.upper())
        )
    if subject_id:
        statement = statement.where(Certificate.subject_id == subject_id.strip())
    page = paginate_by_id(session, statement, Certificate.id, limit=limit, cursor=cursor)
    now = now_of(session)
    return PageOf(items=[summary(c, now) for c in page.items], count=page.count, next_cursor=page.next_cursor)


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
