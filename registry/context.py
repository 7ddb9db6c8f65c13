"""The keys a registry use case signs with and the name it issues certificates under, carried by its session.

Both ride on ``session.info``, like the session's clock (``storage.db.now_of``), so that deep helpers (the log,
certificates, status lists) sign with the keys of the use case that called them, and as the body it names.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from registry.config import DEFAULT_ISSUER_NAME, IssuerName
from registry.keys import KeyRing
from storage.db import set_now

_KEYRING = "keyring"
_ISSUER_NAME = "issuer_name"


def with_keyring(session: Session, keyring: KeyRing) -> Session:
    """Give the session the keys its use cases sign with."""
    session.info[_KEYRING] = keyring
    return session


def with_issuer_name(session: Session, name: IssuerName) -> Session:
    """Give the session the name its use cases issue certificates under."""
    session.info[_ISSUER_NAME] = name
    return session


def bind(session: Session, now: datetime, keyring: KeyRing, issuer_name: IssuerName | None = None) -> Session:
    """Fix the moment a session's use case runs at, the keys it signs with and the name it issues under (jobs)."""
    return with_issuer_name(with_keyring(set_now(session, now), keyring), issuer_name or DEFAULT_ISSUER_NAME)


def keyring_of(session: Session) -> KeyRing:
    """The keys the use case signs with."""
    keyring = session.info.get(_KEYRING)
    assert isinstance(keyring, KeyRing), "open the session with the app's keys (registry.context.with_keyring)"
    return keyring


def issuer_name_of(session: Session) -> IssuerName:
    """The name the use case issues certificates under."""
    name = session.info.get(_ISSUER_NAME, DEFAULT_ISSUER_NAME)
    assert isinstance(name, IssuerName), "bind an IssuerName (registry.context.with_issuer_name)"
    return name
