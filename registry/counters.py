"""Serial numbers for issued codes, unique under concurrency on both engines."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry.models import Counter


def next_value(session: Session, name: str) -> int:
    """Take the next value of a named counter inside the caller's transaction."""
    return next_values(session, name, 1)[0]


def next_values(session: Session, name: str, count: int) -> range:
    """Take the next `count` values of a named counter at once, inside the caller's transaction."""
    # The UPDATE locks the row until commit, so concurrent takers queue and each gets its own values.
    statement = (
        update(Counter)
        .where(col(Counter.name) == name)
        .values(value=col(Counter.value) + count)
        .returning(col(Counter.value))
    )
    last = session.execute(statement).scalar_one_or_none()
    if last is not None:
        return range(int(last) - count + 1, int(last) + 1)
    try:
        with session.begin_nested():
            session.add(Counter(name=name, value=count))
            session.flush()
    except IntegrityError:
        # Someone else created the counter between our UPDATE and INSERT; theirs stands, take the next.
        return next_values(session, name, count)
    return range(1, count + 1)
