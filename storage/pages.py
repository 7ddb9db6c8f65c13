"""The body of every list, apart from the queries that fill it, so that API shapes and clients need no ORM."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The body of every list: one page of items, the total count, and the cursor of the next page if any.

    Build it from a service's ``storage.pagination.PageOf`` rows with
    ``Page[ItemPublic].model_validate(page, from_attributes=True)``.
    """

    items: list[T]
    count: int
    next_cursor: str | None
