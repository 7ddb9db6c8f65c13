"""Agreements as W3C VC 2.0 credentials: signed with the registry's issuer key (eddsa-jcs-2022) by the code that signs
certificates, logged as ``agreement.signed``, and ended (terminated or retired) through a bit in the issuer's status
list, so that `pdr verify` checks an agreement as it checks a certificate.

The log holds ids, hashes and times only (see :mod:`registry.agreement_credential`); a reason for ending an
agreement may name people, so it stays in the agreement's row and the negotiation's steps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from catalog.dataspace.documents import DSPACE_CONTEXT
from catalog.dataspace.models import Agreement
from registry import events, log, status_list
from registry.agreement_credential import AGREEMENT_TYPE, ENDED, signed_event
from registry.certificate_credential import rfc3339
from registry.context import keyring_of
from registry.deadlines import china_midnight_utc
from registry.issuing import sign_as_issuer
from storage.db import now_of
from storage.exceptions import Conflict

VALID = "valid"
TERMINATED = "terminated"
RETIRED = "retired"
EXPIRED = "expired"
NAME = "数据流通协议 Data Space Agreement"


def _unsigned(
    agreement: dict[str, Any], slot: status_list.Allocation, issuer: dict[str, Any], valid: tuple[datetime, datetime]
) -> dict[str, Any]:
    """The credential of an ODRL Agreement: the agreement itself is its subject."""
    return {
        "@context": [status_list.VC_V2_CONTEXT, DSPACE_CONTEXT],
        "id": agreement["@id"],
        "type": ["VerifiableCredential", AGREEMENT_TYPE],
        "name": NAME,
        "issuer": issuer,
        "validFrom": rfc3339(valid[0]),
        "validUntil": rfc3339(valid[1]),
        "credentialSubject": agreement,
        "credentialStatus": status_list.status_entry(slot),
    }


def sign(session: Session, negotiation_id: str, agreement: dict[str, Any], last_day: date, base_url: str) -> Agreement:
    """Sign and log a negotiation's agreement, valid until the end of its terms' last day in China, in the caller's
    transaction."""
    # Whole seconds: validFrom, the proof's created and the log event's time must be the same text.
    now = now_of(session).astimezone(UTC).replace(microsecond=0)
    valid_until = china_midnight_utc(last_day + timedelta(days=1)) - timedelta(seconds=1)
    status_list.lock(session)
    slot = status_list.allocate(session, base_url)
    key_id, credential = sign_as_issuer(
        session, lambda issuer: _unsigned(agreement, slot, issuer, (now, valid_until)), now
    )
    event = signed_event(credential)
    row = Agreement(
        id=negotiation_id,
        credential=credential,
        credential_sha256=str(event.body["credential_sha256"]),
        issuer_key_id=key_id,
        status_list=slot.list_name,
        status_index=slot.index,
        valid_from=now,
        valid_until=valid_until,
        log_index=log.append(session, keyring_of(session), [event])[0],
    )
    session.add(row)
    session.flush()
    return row


def end(session: Session, row: Agreement, status: str, reason: str, actor_id: str | None) -> None:
    """Terminate or retire a valid agreement: its bit set in a new signed list version, and the fact logged."""
    now = now_of(session)
    # Guarded, so that of two concurrent endings of one agreement only one takes effect.
    result = session.execute(
        update(Agreement)
        .where(col(Agreement.id) == row.id, col(Agreement.status) == VALID)
        .values(status=status, ended_at=now, ended_by=actor_id, ended_reason=reason)
    )
    session.refresh(row)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"the agreement is {row.status} already")
    version = status_list.publish(session, None, row.status_list, set_bits=[row.status_index])
    row.ended_log_index = events.emit(
        session,
        ENDED,
        f"agreement:{row.id}",
        {
            "agreement_id": row.id,
            "status": status,
            "status_list": row.status_list,
            "status_index": row.status_index,
            "status_list_version": version.version,
        },
    )
    session.add(row)


def status_of(row: Agreement, now: datetime) -> str:
    """valid, terminated, retired or expired, at a moment."""
    if row.status != VALID:
        return row.status
    return EXPIRED if now > row.valid_until else VALID


def bundle(session: Session, row: Agreement) -> dict[str, Any]:
    """What a party keeps: the credential, its tlog proof under the latest checkpoint, and its current status."""
    return {
        "id": row.id,
        "credential": row.credential,
        "tlog_proof": log.proof_text(session, row.log_index, "agreement"),
        "status": status_of(row, now_of(session)),
        "log_index": row.log_index,
    }
