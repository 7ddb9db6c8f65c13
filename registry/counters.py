"""Serial numbers for issued codes, unique under concurrency on both engines."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry.models import Counter


def next_value(session: Session, name: str) -> int:
    """Take the next value of a named counter inside the caller's transaction."""
    # The UPDATE locks the row until commit, so concurrent takers queue and each gets its own value.
    statement = (
        update(Counter)
        .where(col(Counter.name) == name)
        .values(value=col(Counter.value) + 1)
        .returning(col(Counter.value))
    )
    value = session.execute(statement).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.add(Counter(name=name, value=1))
            session.flush()
    except IntegrityError:
        # Someone else created the counter between our UPDATE and INSERT; theirs stands, take the next.
        return next_value(session, name)
    return 1
