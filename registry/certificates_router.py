"""HTTP routes of certificates: issue, read the bundle or the PDF, revoke, the status list, the verify page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from auth.dependencies import Cursor, DbSession, Limit, Staff
from registry import certificate_batches, certificates, status_list, verification
from registry.certificate_batches import CertificateBatch, CertificatesIssued
from registry.certificate_credential import context_document
from registry.dependencies import RegistryConfig
from registry.schemas import CertificateBundle, CertificateRequest, CertificateSummary, RevocationRequest
from registry.verify_page import render_not_found, render_verification
from storage.db import now_of
from storage.exceptions import NotFound
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(tags=["certificates"])


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


def _verify_url(request: Request, number: str) -> str:
    return f"{_base_url(request)}/verify/{number}"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# ---------------------------------------------------------------- the native API


@router.post("/api/v1/certificates", response_model=CertificateBundle, status_code=status.HTTP_201_CREATED)
def issue_certificate(
    body: CertificateRequest, caller: Staff, session: DbSession, settings: RegistryConfig, request: Request
) -> CertificateBundle:
    """The registry's staff issue a certificate for a registered resource or product."""
    certificate = certificates.issue(session, caller, settings, _base_url(request), body)
    return CertificateBundle.model_validate(certificates.bundle(session, certificate))


@router.post("/api/v1/certificates/batch", response_model=CertificatesIssued, status_code=status.HTTP_201_CREATED)
def issue_certificates(
    body: CertificateBatch, caller: Staff, session: DbSession, settings: RegistryConfig, request: Request
) -> CertificatesIssued:
    """The registry's staff issue up to a thousand certificates at once: one transaction, one log batch and one
    checkpoint; the first refusal refuses them all, naming its position."""
    issued = certificate_batches.issue_batch(session, caller, settings, _base_url(request), body.certificates)
    now = now_of(session)
    return CertificatesIssued(items=[certificates.summary(c, now) for c in issued])


@router.get("/api/v1/certificates", response_model=Page[CertificateSummary])
def list_certificates(
    session: DbSession,
    holder: Annotated[str | None, Query(max_length=26, description="entity id or USCC")] = None,
    subject_id: Annotated[str | None, Query(max_length=26)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[CertificateSummary]:
    """Certificates, newest first, by holder (entity id or USCC) or by subject."""
    page = certificates.list_certificates(session, holder=holder, subject_id=subject_id, limit=limit, cursor=cursor)
    return Page[CertificateSummary].model_validate(page, from_attributes=True)


@router.get(
    "/api/v1/certificates/{number}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_pdf_file(number: str, session: DbSession, request: Request) -> Response:
    """The printable A4 certificate, with a QR code to its verification page."""
    certificate = certificates.get_certificate(session, number)
    # Imported here: the PDF stack (fpdf2, fontTools, segno) costs ~50 MiB that most processes never need.
    from registry import certificate_pdf

    pdf = certificate_pdf.render(
        certificate, _verify_url(request, certificate.number), certificates.current_status(session, certificate)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{certificate.number}.pdf"'},
    )


@router.get("/api/v1/certificates/{number}", response_model=CertificateBundle)
def read_certificate(number: str, session: DbSession) -> CertificateBundle:
    """The public bundle: the signed credential, its tlog proof and its status."""
    certificate = certificates.get_certificate(session, number)
    return CertificateBundle.model_validate(certificates.bundle(session, certificate))


@router.post("/api/v1/certificates/{number}/revoke", response_model=CertificateBundle)
def revoke_certificate(number: str, body: RevocationRequest, caller: Staff, session: DbSession) -> CertificateBundle:
    """The registry's staff revoke a certificate, stating why."""
    certificate = certificates.revoke(session, caller, number, body.reason)
    return CertificateBundle.model_validate(certificates.bundle(session, certificate))


# ---------------------------------------------------------------- documents a verifier fetches


@router.get("/status/certificates", responses={200: {"content": {"application/json": {}}}})
def certificate_status_list(session: DbSession) -> JSONResponse:
    """The newest signed Bitstring Status List credential of certificates."""
    latest = status_list.published_version(session)
    return JSONResponse(
        latest.credential, headers={"ETag": f'"{latest.credential_sha256}"', "Cache-Control": "no-cache"}
    )


@router.get("/contexts/pdr/v1", responses={200: {"content": {"application/ld+json": {}}}})
def pdr_context(request: Request) -> JSONResponse:
    """pdr's JSON-LD context for certificates."""
    return JSONResponse(
        context_document(_base_url(request)),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# ---------------------------------------------------------------- the verification page


@router.get("/verify/{number}", response_class=HTMLResponse, responses={200: {"content": {"application/json": {}}}})
def verify_page(number: str, request: Request, session: DbSession) -> Response:
    """The public verification page: HTML for people, JSON when asked for by Accept."""
    try:
        certificate = certificates.get_certificate(session, number)
    except NotFound:
        if _wants_json(request):
            raise
        return HTMLResponse(render_not_found(number), status_code=404)
    view = verification.verification(session, request.app.state.settings, certificate)
    if _wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render_verification(view))
