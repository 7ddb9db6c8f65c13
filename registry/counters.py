"""Serial numbers for issued codes, unique under concurrency on both engines."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry.models import Counter


def next_value(session: Session, name: str) -> int:
    """Take the next value of a named counter inside the caller's transaction."""
    return next_values(session, name, 1)[0]


def next_values(session: Session, name: str, count: int) -> range:
    """Take the next `count` values of a named counter at once, inside the caller's transaction."""
    return next_ranges(session, [name], count)[name]


def next_ranges(session: Session, names: Sequence[str], count: int) -> dict[str, range]:
    """Take the next `count` values of each of several named counters in one statement, inside the caller's
    transaction."""
    assert len(set(names)) == len(names), "each counter once"
    # The UPDATE locks the rows until commit, so concurrent takers queue and each gets its own values.
    statement = (
        update(Counter)
        .where(col(Counter.name).in_(names))
        .values(value=col(Counter.value) + count)
        .returning(col(Counter.name), col(Counter.value))
    )
    taken = {name: range(int(last) - count + 1, int(last) + 1) for name, last in session.execute(statement)}
    for name in names:
        if name not in taken:
            taken[name] = _first_values(session, name, count)
    return taken


def _first_values(session: Session, name: str, count: int) -> range:
    """Create a counter at `count`, or take from it if someone else created it meanwhile."""
    try:
        with session.begin_nested():
            session.add(Counter(name=name, value=count))
            session.flush()
    except IntegrityError:
        # Someone else created the counter between our UPDATE and INSERT; theirs stands, take the next.
        return next_values(session, name, count)
    return range(1, count + 1)
