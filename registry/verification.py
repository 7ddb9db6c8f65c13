"""The registry's own verification of a certificate it issued, as its public verification page shows it.

The registry checks its own certificates the way an outsider would: with the trust document it publishes and
the offline verifier, judging revocation from the signed status list rather than from its own rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from registry import certificates, status_list
from registry.certificate_credential import holder_and_subject, issuer_id, issuer_names, rfc3339, status_of
from registry.models import Certificate
from registry.verifier import Report, Trust, TrustSettings, trust_document, verify_bundle
from storage.db import now_of


def verify_issued(session: Session, settings: TrustSettings, certificate: Certificate, at: datetime) -> Report:
    """Verify a stored certificate as an outsider would, with the registry's own trust document."""
    trust = Trust.from_document(trust_document(session, settings))
    bundle = certificates.bundle(session, certificate)
    latest = status_list.latest_version(session, certificate.status_list)
    bundle.pop("status")  # judge revocation from the signed list, as a verifier would
    return verify_bundle(bundle, trust, at=at, status_list_credential=dict(latest.credential) if latest else None)


def verification(session: Session, settings: TrustSettings, certificate: Certificate) -> dict[str, Any]:
    """What the verification page shows of a certificate: its fields, its status and each check's outcome."""
    now = now_of(session)
    base_url = settings.base_url.rstrip("/")
    report = verify_issued(session, settings, certificate, now)
    holder, data = holder_and_subject(certificate)
    # The name the credential was signed with, never the current setting: a signed credential does not change.
    issuer_zh, issuer_en = issuer_names(certificate.credential)
    return {
        "number": certificate.number,
        "status": status_of(certificate, now),
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
        "valid_from": rfc3339(certificate.valid_from),
        "valid_until": rfc3339(certificate.valid_until),
        "issued_at": rfc3339(certificate.valid_from),
        "revoked_at": rfc3339(certificate.revoked_at) if certificate.revoked_at else None,
        "revoked_reason": certificate.revoked_reason,
        "issuer": issuer_id(certificate.credential),
        "issuer_name": issuer_zh,
        "issuer_name_en": issuer_en,
        "signature_ok": report.passed("credential proof"),
        "checkpoint_ok": report.passed("checkpoint"),
        "log_inclusion_ok": report.passed("log inclusion"),
        "log_index": certificate.log_index,
        "tree_size": report.checkpoint_size,
        "checks": report.as_dict()["checks"],
        "bundle_url": f"{base_url}/api/v1/certificates/{certificate.number}",
        "pdf_url": f"{base_url}/api/v1/certificates/{certificate.number}.pdf",
    }
