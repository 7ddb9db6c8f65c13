"""Opaque, time-ordered row identifiers."""

from __future__ import annotations

import base64
import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# RFC 4648 base32 digits to Crockford's: the same 5-bit values, spelt without I, L, O and U.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def encode_id(value: int) -> str:
    """A 128-bit value as 26 Crockford base32 digits, most significant first."""
    # 26 digits carry 130 bits; shifted left by 6 the value fills 17 bytes, whose first 26 base32 digits are it.
    return base64.b32encode((value << 6).to_bytes(17, "big"))[:26].translate(_TO_CROCKFORD).decode()


def new_id() -> str:
    """A 26-character id: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    return encode_id((int(time.time() * 1000) << 80) | secrets.randbits(80))
