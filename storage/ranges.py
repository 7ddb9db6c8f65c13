"""What HTTP asks of a stored object: a byte range (RFC 9110 ``Range``), and its validator (``ETag``).

Objects are addressed by their SHA-256, so the digest is a strong validator as it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.exceptions import DomainError

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of an object."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start + 1


class RangeNotSatisfiable(DomainError):
    """The Range header asks for nothing the object has (416, with the object's size in Content-Range)."""

    status = 416
    title = "Range not satisfiable"
    type_slug = "range-not-satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"the file has {size} bytes", headers={"Content-Range": f"bytes */{size}"})


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """A single or suffix byte range; None means the whole object (no header, or a form we do not serve)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None  # several ranges, or another unit: RFC 9110 lets us answer with the whole object
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(size)
    return ByteRange(start, end)


def strong_etag(sha256: str) -> str:
    """The strong ETag of an object: its SHA-256, quoted."""
    return f'"{sha256}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header already names this ETag."""
    if not if_none_match:
        return False
    candidates = {value.strip().removeprefix("W/") for value in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
