"""Signing as the registry: a credential built around the issuer object of the active issuer key and the body's name
as set now, then signed with that key (eddsa-jcs-2022). Certificates, agreements and participant credentials alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from registry.certificate_credential import issuer_object
from registry.context import issuer_name_of, keyring_of
from registry.credentials import did_key_verification_method, sign_credential
from registry.keys import ISSUER, public_key_of


def sign_as_issuer(
    session: Session, unsigned_for: Callable[[dict[str, Any]], dict[str, Any]], at: datetime
) -> tuple[str, dict[str, Any]]:
    """The active issuer key's id, and the credential `unsigned_for` builds around its issuer object, signed at `at`."""
    key, private_key = keyring_of(session).signer(session, ISSUER)
    # The name as set now; credentials issued earlier keep the name they were signed with.
    unsigned = unsigned_for(issuer_object(key.name, issuer_name_of(session)))
    return key.id, sign_credential(unsigned, private_key, did_key_verification_method(public_key_of(key)), at)
