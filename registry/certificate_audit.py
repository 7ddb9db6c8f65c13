"""The audit of certificates and status lists against the transparency log (part of `pdr log audit`).

A certificate row must say what its ``certificate.issued`` entry says, and its stored credential must rebuild
that entry byte for byte; a revoked one must have its ``certificate.revoked`` entry; every status list version
must match its ``status_list.published`` entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from registry import log, status_list
from registry.certificate_credential import REVOKED, REVOKED_STATUS, issued_event
from registry.models import Certificate, LogEntry, StatusListVersion


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
