"""What a registry use case needs from its request besides the session: the time and the signing keys.

Both ride on ``session.info`` so that deep helpers (deadlines, the log) read the same values as the use case
that called them, and tests can move the clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from registry.keys import KeyRing


def bind(session: Session, now: datetime, keyring: KeyRing) -> Session:
    """Fix the moment the use case runs at and the keys it signs with."""
    session.info["now"] = now
    session.info["keyring"] = keyring
    return session


def now_of(session: Session) -> datetime:
    """The moment the use case runs at."""
    now = session.info.get("now")
    assert isinstance(now, datetime), "call registry.context.bind(session, now, keyring) before a use case"
    return now


def keyring_of(session: Session) -> KeyRing:
    """The keys the use case signs with."""
    keyring = session.info.get("keyring")
    assert isinstance(keyring, KeyRing), "call registry.context.bind(session, now, keyring) before a use case"
    return keyring
