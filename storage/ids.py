"""Opaque, time-ordered row identifiers."""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Every 10-bit value as its two digits: 13 lookups spell an id.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]


def encode_id(value: int) -> str:
    """A 128-bit value as 26 Crockford base32 digits, most significant first."""
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(120, -10, -10)])


def new_id() -> str:
    """A 26-character id: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    return encode_id((int(time.time() * 1000) << 80) | secrets.randbits(80))
