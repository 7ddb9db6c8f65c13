"""What a participant credential says to a verifier: its type, its id, and the log event its issuing appended.

When the registry verifies an entity it issues the entity a data space participant credential, signed with the
issuer key (see :mod:`registry.participant_credentials`). Its ``participant.issued`` log event is rebuilt here from
the credential alone, as a certificate's is, so that the offline verifier checks its log inclusion: changing one
byte of the credential breaks its inclusion proof. A participant is an organisation, so the event names it.
"""

from __future__ import annotations

from typing import Any

from registry import log, status_list
from registry.certificate_credential import issuer_id, parse_rfc3339

PARTICIPANT_TYPE = "DataSpaceParticipantCredential"
SUBJECT_TYPE = "DataSpaceParticipant"
ISSUED = "participant.issued"
REVOKED = "participant.revoked"
ID_PREFIX = "urn:pdr:participant:"
ENTITY_PREFIX = "urn:pdr:entity:"


def credential_id(entity_id: str, serial: int) -> str:
    """The id of an entity's n-th participant credential."""
    return f"{ID_PREFIX}{entity_id}:{serial}"


def participant_id_of(credential: dict[str, Any]) -> str:
    """``<entity id>:<serial>`` from a credential's id; ValueError when it carries none."""
    value = credential.get("id")
    if not isinstance(value, str) or not value.startswith(ID_PREFIX):
        raise ValueError("the credential's id is not a pdr participant id")
    entity_id, _, serial = value[len(ID_PREFIX) :].rpartition(":")
    if not entity_id or not serial.isascii() or not serial.isdigit():
        raise ValueError("the credential's id is not a pdr participant id")
    return f"{entity_id}:{serial}"


def subject_of(entity_id: str) -> str:
    """The log subject of an entity's events: its participant credentials are logged beside its verification."""
    return f"entity:{entity_id}"


def issued_event(credential: dict[str, Any]) -> log.Event:
    """The ``participant.issued`` event of a signed participant credential, rebuilt from the credential alone."""
    entity_id = participant_id_of(credential).rpartition(":")[0]
    subject = credential["credentialSubject"]
    if subject.get("id") != ENTITY_PREFIX + entity_id:
        raise ValueError("the credential's subject is not the entity its id names")
    body: dict[str, Any] = {
        "credential_id": str(credential["id"]),
        "entity_id": entity_id,
        "uscc": str(subject["uscc"]),
        "issuer": issuer_id(credential),
        "valid_until": str(credential["validUntil"]),
        "credential_sha256": status_list.sha256_jcs(credential),
    }
    at = parse_rfc3339(credential["validFrom"])
    return log.Event(kind=ISSUED, subject=subject_of(entity_id), body=body, at=at)
