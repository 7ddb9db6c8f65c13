"""Distribution formats: one spelling per format, and the bit each holds in the search rows' format mask."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from mimetypes import MimeTypes

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

OVERFLOW_BIT = 62
OVERFLOW_FORMAT = "OTHER"


_MEDIA_FORMATS = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/ld+json": "JSON-LD",
    "application/geo+json": "GEOJSON",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/pdf": "PDF",
    "application/xml": "XML",
    "text/xml": "XML",
    "application/zip": "ZIP",
    "text/plain": "TXT",
    "text/html": "HTML",
    "text/turtle": "TTL",
    "application/rdf+xml": "RDF",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
    "application/vnd.apache.parquet": "PARQUET",
    "application/x-7z-compressed": "7Z",
    "text/tab-separated-values": "TSV",
}


# Media types that say nothing about the content: browsers and tools send them for any file they cannot name.
GENERIC_MEDIA_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/binary",
        "application/unknown",
        "application/download",
        "application/force-download",
        "application/x-download",
    }
)

# File-name extensions of the formats open data comes in that Python's built-in table lacks; the rest come from it.
_EXTENSION_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "geojson": "application/geo+json",
    "jsonld": "application/ld+json",
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "parquet": "application/vnd.apache.parquet",
    "7z": "application/x-7z-compressed",
}


@cache
def _built_in_types() -> dict[str, str]:
    """Python's own extension table, never the machine's /etc/mime.types, so every host answers alike."""
    return MimeTypes(filenames=()).types_map[True]


def extension_of(name: str | None) -> str:
    """The lower-case extension of a file name without its dot, or an empty string."""
    stem, dot, extension = (name or "").rpartition(".")
    return extension.lower() if dot and stem and extension.isalnum() else ""


def media_type_for(declared: str, name: str | None) -> str:
    """The declared media type, or when it is generic the one the file name's extension names."""
    if declared not in GENERIC_MEDIA_TYPES:
        return declared
    extension = extension_of(name)
    guessed = _EXTENSION_MEDIA.get(extension) or _built_in_types().get(f".{extension}")
    return guessed or declared or "application/octet-stream"


def file_format(media_type: str, name: str | None) -> str | None:
    """A stored file's format: from its media type, or from its extension when the media type is generic."""
    if media_type in GENERIC_MEDIA_TYPES:
        return normalise_format(extension_of(name)) or None
    return normalise_format(media_type)


def normalise_format(value: str | None) -> str | None:
    """One spelling per format: ``csv``, ``.CSV`` and ``text/csv`` are all ``CSV``."""
    if not value:
        return None
    raw = value.strip().lower()
    if raw in _MEDIA_FORMATS:
        return _MEDIA_FORMATS[raw]
    if "/" in raw:
        raw = raw.rsplit("/", 1)[1].split(";")[0].split("+")[-1]
    raw = raw.lstrip(".").strip()
    cleaned = re.sub(r"[^0-9a-z_-]", "", raw).upper()[:40]
    return cleaned or None


def format_bits(session: Session, names: Iterable[str]) -> dict[str, int]:
    """The mask bit of each format name, allocating bits to formats seen for the first time."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    connection = session.connection()
    known = known_formats(connection)
    missing = [n for n in wanted if n not in known]
    if missing:
        if connection.dialect.name == "postgresql":
            # Serialise allocation so two writers never hand one bit to two formats.
            connection.execute(text("SELECT pg_advisory_xact_lock(5005)"))
            known = known_formats(connection)
        used = {bit for bit in known.values() if bit != OVERFLOW_BIT}
        free = (bit for bit in range(OVERFLOW_BIT) if bit not in used)
        for name in missing:
            if name in known:
                continue
            bit = next(free, OVERFLOW_BIT)
            connection.execute(
                text("INSERT INTO catalog_format (name, bit) VALUES (:name, :bit)"), {"name": name, "bit": bit}
            )
            known[name] = bit
    return {n: known[n] for n in wanted}


def known_formats(connection: Connection) -> dict[str, int]:
    return {str(name): int(bit) for name, bit in connection.execute(text("SELECT name, bit FROM catalog_format"))}
