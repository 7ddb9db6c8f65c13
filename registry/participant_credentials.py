"""Data space participant credentials: issued to an entity when the registry verifies it, revoked when it is suspended.

A participant credential is a W3C VC 2.0 credential signed with the registry's issuer key (eddsa-jcs-2022) by the
code that signs certificates; its subject is the entity as an organisation (name, USCC, kind, region; never a
contact person). It is logged as ``participant.issued``, rebuilt from the credential alone
(:mod:`registry.participant_credential`), and given a bit in the issuer's status list, so `pdr verify` checks it as
it checks a certificate. Suspending the entity sets the bit in a new signed list version and logs
``participant.revoked``; verifying it again issues a new credential and keeps the old one, revoked.

Entities verified before the registry issued participant credentials (before migration 0016) have none: the
migration issues none, and their bundle answers 404 saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from auth.caller import Caller
from registry import events, log, status_list
from registry.certificate_credential import context_url, rfc3339
from registry.config import RegistrySettings
from registry.context import keyring_of
from registry.enums import EntityStatus
from registry.issuing import sign_as_issuer
from registry.models import Entity, ParticipantCredential
from registry.participant_credential import (
    ENTITY_PREFIX,
    PARTICIPANT_TYPE,
    REVOKED,
    SUBJECT_TYPE,
    credential_id,
    issued_event,
    subject_of,
)
from storage.db import now_of
from storage.exceptions import NotFound

VALID = "valid"
REVOKED_STATUS = "revoked"
EXPIRED = "expired"
NAME = "数据空间参与方凭证 Data Space Participant Credential"


@dataclass(frozen=True)
class ParticipantTerms:
    """What issuing needs from the settings: the service's public URL and how long a credential is valid."""

    base_url: str
    validity_days: int


def terms_of(settings: RegistrySettings, base_url: str) -> ParticipantTerms:
    """The terms participant credentials are issued on under these settings."""
    return ParticipantTerms(base_url.rstrip("/"), settings.participant_validity_days)


def _credential_subject(entity: Entity) -> dict[str, Any]:
    """The entity as a data space participant: an organisation's public facts, no contact person."""
    return {
        "id": ENTITY_PREFIX + entity.id,
        "type": SUBJECT_TYPE,
        "name": entity.name,
        "uscc": entity.uscc,
        "entityKind": entity.kind,
        "regionCode": entity.region_code,
    }


def _unsigned(
    entity: Entity,
    serial: int,
    slot: status_list.Allocation,
    issuer: dict[str, Any],
    valid: tuple[datetime, datetime],
    base_url: str,
) -> dict[str, Any]:
    return {
        "@context": [status_list.VC_V2_CONTEXT, context_url(base_url)],
        "id": credential_id(entity.id, serial),
        "type": ["VerifiableCredential", PARTICIPANT_TYPE],
        "name": NAME,
        "issuer": issuer,
        "validFrom": rfc3339(valid[0]),
        "validUntil": rfc3339(valid[1]),
        "credentialSubject": _credential_subject(entity),
        "credentialStatus": status_list.status_entry(slot),
    }


def _next_serial(session: Session, entity_id: str) -> int:
    """One more than the entity's last credential's serial; callers hold the log's lock, so no two get the same."""
    last = session.exec(
        select(func.max(ParticipantCredential.serial)).where(ParticipantCredential.entity_id == entity_id)
    ).one()
    return int(last or 0) + 1


def issue(session: Session, caller: Caller, entity: Entity, terms: ParticipantTerms) -> ParticipantCredential:
    """Sign and log a participant credential for an entity the registry verifies, in the caller's transaction."""
    # Whole seconds: validFrom, the proof's created and the log event's time must be the same text.
    now = now_of(session).astimezone(UTC).replace(microsecond=0)
    valid_until = now + timedelta(days=terms.validity_days)
    status_list.lock(session)
    serial = _next_serial(session, entity.id)
    slot = status_list.allocate(session, terms.base_url)
    key_id, credential = sign_as_issuer(
        session, lambda issuer: _unsigned(entity, serial, slot, issuer, (now, valid_until), terms.base_url), now
    )
    event = issued_event(credential)
    row = ParticipantCredential(
        entity_id=entity.id,
        serial=serial,
        credential=credential,
        credential_sha256=str(event.body["credential_sha256"]),
        issuer_key_id=key_id,
        status_list=slot.list_name,
        status_index=slot.index,
        valid_from=now,
        valid_until=valid_until,
        log_index=log.append(session, keyring_of(session), [event])[0],
        issued_by=caller.account_id,
    )
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, caller: Caller, entity_id: str) -> list[ParticipantCredential]:
    """Revoke the entity's credentials that still hold, in the caller's transaction: each bit set in a new signed
    list version, and each revocation logged."""
    status_list.lock(session)
    live = list(
        session.exec(
            select(ParticipantCredential)
            .where(ParticipantCredential.entity_id == entity_id, ParticipantCredential.status == VALID)
            .order_by(col(ParticipantCredential.serial))
        ).all()
    )
    if not live:
        return []
    now = now_of(session)
    # Under the log's lock, which issuing takes too, so these rows cannot change under us.
    for row in live:
        row.status, row.revoked_at, row.revoked_by = REVOKED_STATUS, now, caller.account_id
        session.add(row)
    for list_name in sorted({row.status_list for row in live}):
        in_list = [row for row in live if row.status_list == list_name]
        version = status_list.publish(session, None, list_name, set_bits=[row.status_index for row in in_list])
        for row in in_list:
            row.revoked_log_index = _log_revoked(session, row, version.version)
    return live


def _log_revoked(session: Session, row: ParticipantCredential, version: int) -> int:
    return events.emit(
        session,
        REVOKED,
        subject_of(row.entity_id),
        {
            "credential_id": str(row.credential["id"]),
            "entity_id": row.entity_id,
            "status_list": row.status_list,
            "status_index": row.status_index,
            "status_list_version": version,
        },
    )


def status_of(row: ParticipantCredential, now: datetime) -> str:
    """valid, revoked or expired, at a moment."""
    if row.status != VALID:
        return row.status
    return EXPIRED if now > row.valid_until else VALID


def latest_credential(session: Session, entity_id: str) -> ParticipantCredential:
    """An entity's newest participant credential; 404 for an entity without one, saying why."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound("no such entity")
    row = session.exec(
        select(ParticipantCredential)
        .where(ParticipantCredential.entity_id == entity_id)
        .order_by(col(ParticipantCredential.serial).desc())
        .limit(1)
    ).first()
    if row is not None:
        return row
    if entity.status == EntityStatus.verified:
        raise NotFound("the entity was verified before the registry issued participant credentials, so it has none")
    raise NotFound("the entity has no participant credential: one is issued when the registry verifies it")


def bundle(session: Session, row: ParticipantCredential) -> dict[str, Any]:
    """What anyone may keep and verify offline: the credential, its tlog proof under the latest checkpoint, and its
    current status."""
    return {
        "id": str(row.credential["id"]),
        "entity_id": row.entity_id,
        "credential": row.credential,
        "tlog_proof": log.proof_text(session, row.log_index, "participant credential"),
        "status": status_of(row, now_of(session)),
        "log_index": row.log_index,
    }
