"""Waiting for what a live server records after its answer: a download's record is written once the last byte
has gone, which a fast client may see before it is committed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def settled(read: Callable[[], T], expected: T, seconds: float = 20.0) -> T:
    """Read until the value is `expected` or `seconds` have passed; return the last value read."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value
