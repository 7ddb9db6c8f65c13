"""The roles an account can have; apart from the tables, so that API shapes and clients need no ORM."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account may do."""

    admin = "admin"
    operator = "operator"
    provider = "provider"
    consumer = "consumer"
