"""Certificates issued in batches: up to a thousand in one transaction, each checked as a single issue is, with one
range of serial numbers, one range of status-list bits, one log batch and one signed checkpoint. All or nothing: the
first request refused refuses the batch, naming its position."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session

from auth import audit
from auth.caller import Caller
from registry import log, status_list
from registry.certificate_credential import issued_event, issuer_object
from registry.certificate_targets import check, load_targets
from registry.certificates import Preview, certificate_row, preview_for, terms_of, unsigned_credential
from registry.codes import make_certificate_number
from registry.config import RegistrySettings
from registry.context import issuer_name_of, keyring_of
from registry.counters import next_values
from registry.credentials import did_key_verification_method, sign_credential
from registry.deadlines import china_date
from registry.keys import ISSUER, public_key_of
from registry.models import Certificate
from registry.schemas import CertificateRequest, CertificateSummary
from storage.exceptions import DomainError, FieldProblem, Forbidden

MAX_BATCH = 1000


class CertificateBatch(BaseModel):
    """Certificates to issue together: each as `POST /api/v1/certificates` takes it."""

    certificates: list[CertificateRequest] = Field(min_length=1, max_length=MAX_BATCH)


def _at(position: int, error: DomainError) -> DomainError:
    """The refusal of the request at `position`, saying which it was."""
    problems = [FieldProblem(f"certificates.{position}.{p.field}", p.message) for p in error.errors]
    refused = type(error)(f"certificate {position + 1}: {error.detail}", errors=problems, headers=error.headers)
    refused.extra = error.extra
    return refused


def _previews(session: Session, settings: RegistrySettings, requests: list[CertificateRequest]) -> list[Preview]:
    """What each request would certify, its target checked as a single issue checks it; the first refusal stops."""
    shown = []
    for position, (data, rows) in enumerate(zip(requests, load_targets(session, requests), strict=True)):
        try:
            if isinstance(rows, DomainError):
                raise rows
            shown.append(preview_for(session, settings, data, check(data, rows)))
        except DomainError as error:
            raise _at(position, error) from None
    return shown


def issue_batch(
    session: Session, caller: Caller, settings: RegistrySettings, base_url: str, requests: list[CertificateRequest]
) -> list[Certificate]:
    """Staff issue many signed, logged certificates in one transaction, in the order asked."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff issue certificates")
    # First, so that a cancellation of a subject either sees these certificates or is seen by them.
    status_list.lock(session)
    shown = _previews(session, settings, requests)
    today = china_date(shown[0].valid_from)
    serials = next_values(session, f"certificate:{today.year:04d}{today.month:02d}", len(shown))
    numbers = [make_certificate_number(today.year, today.month, settings.registry_code, n) for n in serials]
    slots = status_list.allocate_many(session, base_url, len(shown))
    keyring = keyring_of(session)
    key, private_key = keyring.signer(session, ISSUER)
    issuer = issuer_object(key.name, issuer_name_of(session))
    method = did_key_verification_method(public_key_of(key))
    terms = [terms_of(one, number) for one, number in zip(shown, numbers, strict=True)]
    credentials = [
        sign_credential(unsigned_credential(t, slot, issuer, base_url), private_key, method, t.valid_from)
        for t, slot in zip(terms, slots, strict=True)
    ]
    events = [issued_event(credential) for credential in credentials]
    indexes = log.append(session, keyring, events)
    rows = [
        certificate_row(t, credential, event, key.id, slot, index, caller)
        for t, credential, event, slot, index in zip(terms, credentials, events, slots, indexes, strict=True)
    ]
    session.add_all(rows)
    for row in rows:
        audit.record(session, caller, "certificate.issue", f"certificate:{row.number}")
    session.commit()
    return rows


class CertificatesIssued(BaseModel):
    """The certificates a batch issued, in the order asked."""

    items: list[CertificateSummary]
