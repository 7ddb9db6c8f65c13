"""What an agreement's credential says to a verifier: its type, its id, and the log event its signing appended.

The data space (``catalog.dataspace``) signs a contract negotiation's ODRL Agreement as a W3C credential with the
registry's issuer key. Its ``agreement.signed`` log event is rebuilt here from the credential alone, as a
certificate's is, so that the offline verifier checks an agreement's log inclusion without the catalog: changing
one byte of the credential breaks its inclusion proof. The event holds ids, hashes and times only: an assignee that
is an account (a person) is left out; an entity (an organisation) is named.
"""

from __future__ import annotations

from typing import Any

from registry import log, status_list
from registry.certificate_credential import issuer_id, parse_rfc3339

AGREEMENT_TYPE = "DataSpaceAgreementCredential"
SIGNED = "agreement.signed"
ENDED = "agreement.ended"
ID_PREFIX = "urn:pdr:agreement:"
ENTITY_PREFIX = "urn:pdr:entity:"


def agreement_id_of(credential: dict[str, Any]) -> str:
    """The agreement id in a credential's id; ValueError when it carries none."""
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id.startswith(ID_PREFIX) or credential_id == ID_PREFIX:
        raise ValueError("the credential's id is not a pdr agreement id")
    return credential_id[len(ID_PREFIX) :]


def signed_event(credential: dict[str, Any]) -> log.Event:
    """The ``agreement.signed`` event of a signed agreement credential, rebuilt from the credential alone."""
    agreement_id = agreement_id_of(credential)
    subject = credential["credentialSubject"]
    if subject.get("@id") != credential["id"]:
        raise ValueError("the credential's subject is not the agreement it names")
    body: dict[str, Any] = {
        "agreement_id": agreement_id,
        "target": str(subject["target"]),
        "assigner": str(subject["assigner"]),
        "issuer": issuer_id(credential),
        "valid_until": str(credential["validUntil"]),
        "credential_sha256": status_list.sha256_jcs(credential),
    }
    assignee = str(subject["assignee"])
    if assignee.startswith(ENTITY_PREFIX):
        body["assignee"] = assignee  # an organisation; an account's id stays out of the public log
    at = parse_rfc3339(credential["validFrom"])
    return log.Event(kind=SIGNED, subject=f"agreement:{agreement_id}", body=body, at=at)
