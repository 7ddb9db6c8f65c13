"""Certificates issued in batches: up to a thousand in one transaction, each checked as a single issue is, with one
range of serial numbers, one range of status-list bits, one log batch and one signed checkpoint. All or nothing: the
first request refused refuses the batch, naming its position."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session

from auth.caller import Caller
from registry import status_list
from registry.certificate_targets import check, load_targets
from registry.certificates import Preview, issue_previews, preview_for
from registry.config import RegistrySettings
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
    rows = issue_previews(session, caller, settings, base_url, _previews(session, settings, requests))
    session.commit()
    return rows


class CertificatesIssued(BaseModel):
    """The certificates a batch issued, in the order asked."""

    items: list[CertificateSummary]
