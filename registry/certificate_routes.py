"""HTTP routes of certificates: issue, read the bundle or the PDF, revoke, the status list, the verify page."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from auth.dependencies import DbSession, Staff
from registry import certificates, status_list, verifier
from registry.certificates import CertificateRequest
from registry.dependencies import RegistryConfig
from registry.models import Certificate
from storage.db import now_of
from storage.exceptions import NotFound
from storage.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["certificates"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
CertificateStatus = Literal["valid", "revoked", "expired"]


class CertificateBundle(BaseModel):
    """A certificate as anyone may fetch and verify it offline."""

    number: str
    credential: dict[str, Any]
    tlog_proof: str = Field(description="c2sp.org/tlog-proof@v1 text for the certificate.issued entry")
    status: CertificateStatus
    log_index: int


class RevocationRequest(BaseModel):
    """Why a certificate is revoked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(default=None, max_length=2000)


class CertificateSummary(BaseModel):
    """A certificate in a list."""

    id: str
    number: str
    status: CertificateStatus
    subject_type: str
    subject_id: str
    entity_id: str
    holder_uscc: str
    holder_name: str
    subject_name: str
    rights: list[str]
    valid_from: datetime
    valid_until: datetime
    log_index: int | None


class CertificatesPublic(BaseModel):
    """A page of certificates."""

    items: list[CertificateSummary]
    count: int
    next_cursor: str | None


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


def _verify_url(request: Request, number: str) -> str:
    return f"{_base_url(request)}/verify/{number}"


def _bundle(session: Session, certificate: Certificate) -> CertificateBundle:
    return CertificateBundle.model_validate(certificates.bundle(session, certificate))


def _summary(certificate: Certificate, now: datetime) -> CertificateSummary:
    holder, data = certificates.holder_and_subject(certificate)
    return CertificateSummary(
        id=certificate.id,
        number=certificate.number,
        status=certificates.status_of(certificate, now),
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


# ---------------------------------------------------------------- the native API


@router.post("/api/v1/certificates", response_model=CertificateBundle, status_code=status.HTTP_201_CREATED)
def issue_certificate(
    body: CertificateRequest, caller: Staff, session: DbSession, settings: RegistryConfig, request: Request
) -> CertificateBundle:
    """The registry's staff issue a certificate for a registered resource or product."""
    certificate = certificates.issue(session, caller, settings, _base_url(request), body)
    return _bundle(session, certificate)


@router.get("/api/v1/certificates", response_model=CertificatesPublic)
def list_certificates(
    session: DbSession,
    holder: Annotated[str | None, Query(max_length=26, description="entity id or USCC")] = None,
    subject_id: Annotated[str | None, Query(max_length=26)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> CertificatesPublic:
    """Certificates, newest first, by holder (entity id or USCC) or by subject."""
    page = certificates.list_certificates(session, holder=holder, subject_id=subject_id, limit=limit, cursor=cursor)
    now = now_of(session)
    return CertificatesPublic(
        items=[_summary(c, now) for c in page.items], count=page.count, next_cursor=page.next_cursor
    )


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
        certificate, _verify_url(request, certificate.number), certificates.status_of(certificate, now_of(session))
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{certificate.number}.pdf"'},
    )


@router.get("/api/v1/certificates/{number}", response_model=CertificateBundle)
def read_certificate(number: str, session: DbSession) -> CertificateBundle:
    """The public bundle: the signed credential, its tlog proof and its status."""
    return _bundle(session, certificates.get_certificate(session, number))


@router.post("/api/v1/certificates/{number}/revoke", response_model=CertificateBundle)
def revoke_certificate(
    number: str, body: RevocationRequest, caller: Staff, session: DbSession
) -> CertificateBundle:
    """The registry's staff revoke a certificate, stating why."""
    return _bundle(session, certificates.revoke(session, caller, number, body.reason))


# ---------------------------------------------------------------- documents a verifier fetches


@router.get("/status/certificates", responses={200: {"content": {"application/json": {}}}})
def certificate_status_list(session: DbSession) -> JSONResponse:
    """The newest signed Bitstring Status List credential of certificates."""
    latest = status_list.latest_version(session)
    if latest is None:
        raise NotFound("no certificate has been issued yet, so there is no status list")
    return JSONResponse(
        latest.credential, headers={"ETag": f'"{latest.credential_sha256}"', "Cache-Control": "no-cache"}
    )


@router.get("/contexts/pdr/v1", responses={200: {"content": {"application/ld+json": {}}}})
def pdr_context(request: Request) -> JSONResponse:
    """pdr's JSON-LD context for certificates."""
    return JSONResponse(
        certificates.context_document(_base_url(request)),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# ---------------------------------------------------------------- the verification page


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _verification(request: Request, session: Session, certificate: Certificate) -> dict[str, Any]:
    now = now_of(session)
    report = verifier.verify_issued(session, request.app.state.settings, certificate, now)
    holder, data = certificates.holder_and_subject(certificate)
    return {
        "number": certificate.number,
        "status": certificates.status_of(certificate, now),
        "holder": {"id": certificate.entity_id, "name": holder.get("name"), "uscc": certificate.holder_uscc},
        "subject": {
            "type": certificate.subject_type,
            "id": certificate.subject_id,
            "code": data.get("code"),
            "name": data.get("name"),
            "registration_code": data.get("registrationCode"),
        },
        "rights": certificate.rights,
        "scope": certificate.scope,
        "valid_from": certificates.rfc3339(certificate.valid_from),
        "valid_until": certificates.rfc3339(certificate.valid_until),
        "revoked_at": certificates.rfc3339(certificate.revoked_at) if certificate.revoked_at else None,
        "issuer": certificate.credential.get("issuer"),
        "signature_ok": report.passed("credential proof"),
        "checkpoint_ok": report.passed("checkpoint"),
        "log_inclusion_ok": report.passed("log inclusion"),
        "log_index": certificate.log_index,
        "tree_size": report.checkpoint_size,
        "checks": report.as_dict()["checks"],
        "bundle_url": f"{_base_url(request)}/api/v1/certificates/{certificate.number}",
        "pdf_url": f"{_base_url(request)}/api/v1/certificates/{certificate.number}.pdf",
    }


_STATUS_TEXT = {
    "valid": ("有效", "Valid", "#166534", "#dcfce7"),
    "revoked": ("已撤销", "Revoked", "#991b1b", "#fee2e2"),
    "expired": ("已过期", "Expired", "#92400e", "#fef3c7"),
}
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f8fafc;
color:#1e293b}}
main{{max-width:44rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #e2e8f0;border-radius:8px}}
h1{{font-size:1.4rem;margin:0 0 .2rem}} .en{{color:#64748b;font-size:.85em}}
.badge{{display:inline-block;padding:.3rem .8rem;border-radius:999px;font-weight:600}}
dl{{display:grid;grid-template-columns:11rem 1fr;gap:.5rem 1rem}} dt{{color:#475569}}
dd{{margin:0;word-break:break-all}}
.ok{{color:#166534}} .bad{{color:#991b1b}} .skip{{color:#64748b}} code{{font-size:.8em}}
</style></head><body><main>
{body}
</main></body></html>
"""


def _mark(ok: bool | None) -> str:
    if ok is None:
        return '<span class="skip">— 未检查 not checked</span>'
    return '<span class="ok">✓ 通过 passed</span>' if ok else '<span class="bad">✗ 未通过 failed</span>'


def _html(view: dict[str, Any]) -> str:
    zh, en, fg, bg = _STATUS_TEXT[view["status"]]
    subject_zh = "数据资源" if view["subject"]["type"] == "resource" else "数据产品"
    rights = "<br>".join(
        f"{escape(label_zh)} <span class=en>{escape(label_en)}</span>"
        for _, label_zh, label_en in certificates.describe_rights(view["rights"])
    )
    fields = [
        ("证书编号", "Certificate No.", escape(view["number"])),
        ("持有人", "Holder", escape(str(view["holder"]["name"]))),
        ("统一社会信用代码", "USCC", escape(view["holder"]["uscc"])),
        (f"{subject_zh}", "Registered data", escape(str(view["subject"]["name"]))),
        ("编码", "Code", escape(str(view["subject"]["code"]))),
        ("登记编号", "Registration No.", escape(str(view["subject"]["registration_code"]))),
        ("权利", "Rights", rights),
        ("范围", "Scope", escape(view["scope"])),
        ("有效期", "Validity", f"{escape(view['valid_from'])} — {escape(view['valid_until'])}"),
        ("签名", "Signature", _mark(view["signature_ok"])),
        ("日志收录", "Log inclusion", _mark(view["log_inclusion_ok"])),
        ("签发者", "Issuer", f"<code>{escape(str(view['issuer']))}</code>"),
    ]
    rows = "\n".join(f"<dt>{zh_}<br><span class=en>{en_}</span></dt><dd>{value}</dd>" for zh_, en_, value in fields)
    checks = "\n".join(
        f"<li>{escape(c['name'])}: {_mark(c['ok'])} <span class=en>{escape(c['detail'])}</span></li>"
        for c in view["checks"]
    )
    body = f"""<h1>数据产权登记证书核验 <span class=en>Certificate verification</span></h1>
<p><span class="badge" style="color:{fg};background:{bg}">{zh} {en}</span></p>
<dl>
{rows}
</dl>
<h2 style="font-size:1rem">核验明细 <span class=en>Checks</span></h2>
<ul>
{checks}
</ul>
<p class=en><a href="{escape(view["bundle_url"])}">bundle (JSON)</a> ·
<a href="{escape(view["pdf_url"])}">PDF</a></p>"""
    return _PAGE.format(title=escape(f"证书核验 {view['number']}"), body=body)


@router.get("/verify/{number}", response_class=HTMLResponse, responses={200: {"content": {"application/json": {}}}})
def verify_page(number: str, request: Request, session: DbSession) -> Response:
    """The public verification page: HTML for people, JSON when asked for by Accept."""
    try:
        certificate = certificates.get_certificate(session, number)
    except NotFound:
        if _wants_json(request):
            raise
        body = f"<h1>未找到证书 <span class=en>No such certificate</span></h1><p>{escape(number)}</p>"
        return HTMLResponse(_PAGE.format(title="证书核验 Certificate verification", body=body), status_code=404)
    view = _verification(request, session, certificate)
    if _wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(_html(view))
