"""The signing keys a registry use case signs with, carried by its session.

The keys ride on ``session.info``, like the session's clock (``storage.db.now_of``), so that deep helpers (the
log, certificates, status lists) sign with the keys of the use case that called them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from registry.keys import KeyRing
from storage.db import set_now

_KEYRING = "keyring"


def with_keyring(session: Session, keyring: KeyRing) -> Session:
    """Give the session the keys its use cases sign with."""
    session.info[_KEYRING] = keyring
    return session


def bind(session: Session, now: datetime, keyring: KeyRing) -> Session:
    """Fix the moment a session's use case runs at and the keys it signs with (jobs outside a request)."""
    return with_keyring(set_now(session, now), keyring)


def keyring_of(session: Session) -> KeyRing:
    """The keys the use case signs with."""
    keyring = session.info.get(_KEYRING)
    assert isinstance(keyring, KeyRing), "open the session with the app's keys (registry.context.with_keyring)"
    return keyring
