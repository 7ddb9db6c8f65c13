"""Registry events: each one a transparency-log leaf, appended in the transaction of the change it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from registry import log
from registry.context import keyring_of
from storage.db import now_of


def emit(session: Session, kind: str, subject: str, body: dict[str, Any], at: datetime | None = None) -> int:
    """Log one public event (e.g. ``registration.register``) with the change; returns its log index."""
    event = log.Event(kind=kind, subject=subject, body=body, at=at or now_of(session))
    return log.append(session, keyring_of(session), [event])[0]
