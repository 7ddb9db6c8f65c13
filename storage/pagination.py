"""Keyset pagination with opaque cursors, so deep pages cost the same as the first."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.exceptions import FieldProblem, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageOf(Generic[T]):
    """One page of rows, the total count, and the cursor of the next page if any."""

    items: Sequence[T]
    count: int
    next_cursor: str | None


def encode_cursor(values: dict[str, Any]) -> str:
    """Wrap the sort key of the last row seen into an opaque string."""
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Unwrap a cursor, refusing anything this service did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not valid", errors=[FieldProblem("cursor", "not a cursor")]) from exc
    if not isinstance(values, dict):
        raise InvalidInput("the cursor is not valid", errors=[FieldProblem("cursor", "not a cursor")])
    return values


def check_limit(limit: int) -> int:
    """Refuse page sizes outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            errors=[FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}")],
        )
    return limit


def paginate_by_id(
    session: Session,
    statement: SelectOfScalar[T],
    id_column: ColumnElement[str] | Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
) -> PageOf[T]:
    """Page through a statement ordered by a time-ordered id column."""
    check_limit(limit)
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int(session.exec(count_statement).one())
    if cursor is not None:
        after = decode_cursor(cursor).get("id")
        if not isinstance(after, str):
            raise InvalidInput("the cursor is not valid", errors=[FieldProblem("cursor", "not a cursor")])
        statement = statement.where(id_column < after if newest_first else id_column > after)
    ordered = statement.order_by(id_column.desc() if newest_first else id_column.asc()).limit(limit + 1)
    rows = list(session.exec(ordered).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"id": getattr(rows[-1], "id")})  # noqa: B009 - rows are any table
    return PageOf(items=rows, count=total, next_cursor=next_cursor)
