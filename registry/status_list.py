"""W3C Bitstring Status List v1.0 for certificates: one bit per certificate, each list version signed and logged.

Every certificate gets its own bit (``statusListIndex``) when it is issued; revoking it sets the bit and
publishes a new version of the status list credential, signed with the active issuer key and recorded as a
``status_list.published`` log event. The bits are derived from the certificate rows at publication time, so a
version always reflects every revocation committed before it. Other credentials the issuer signs with a status entry
(the data space's agreements) set their bits through ``publish(set_bits=...)``; since a revocation is final, every
version keeps the bits of the one before.

Publications take the transparency log's lock first: every change that logs an event takes it anyway, so
taking it before reading the bits serialises publishers in one order (log, then nothing else) and no two
versions can miss each other's revocations.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from registry import events, log
from registry.context import keyring_of
from registry.counters import next_values
from registry.credentials import did_key_verification_method, sign_credential
from registry.keys import ISSUER, public_key_of
from registry.models import Certificate, SigningKey, StatusListVersion
from storage.db import now_of
from storage.exceptions import NotFound

CERTIFICATES = "certificates"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# The specification's minimum bitstring length (16 KiB), for herd privacy among the entries.
MIN_LENGTH = 131_072
# A list never grows past this (about 2 MiB of bits), which bounds what a verifier must inflate.
MAX_LENGTH = 16 * 1024 * 1024
STATUS_PURPOSE = "revocation"


class StatusListError(ValueError):
    """A status list credential is malformed or does not cover the index asked about."""


@dataclass(frozen=True)
class Allocation:
    """A certificate's place in a status list."""

    list_name: str
    index: int
    list_url: str


def list_url(base_url: str, list_name: str = CERTIFICATES) -> str:
    """The public URL of a status list credential."""
    return f"{base_url.rstrip('/')}/status/{list_name}"


def sha256_jcs(document: dict[str, Any]) -> str:
    """The hex SHA-256 of a JSON document's RFC 8785 bytes."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def newest_version(list_name: str = CERTIFICATES) -> SelectOfScalar[StatusListVersion]:
    """The query of a status list's newest published version."""
    return (
        select(StatusListVersion)
        .where(col(StatusListVersion.list_name) == list_name)
        .order_by(col(StatusListVersion.version).desc())
        .limit(1)
    )


def latest_version(session: Session, list_name: str = CERTIFICATES) -> StatusListVersion | None:
    """The newest published version of a status list."""
    return session.exec(newest_version(list_name)).first()


def published_version(session: Session, list_name: str = CERTIFICATES) -> StatusListVersion:
    """The newest published version of a status list; 404 before the first certificate is issued."""
    latest = latest_version(session, list_name)
    if latest is None:
        raise NotFound("no certificate has been issued yet, so there is no status list")
    return latest


def status_entry(slot: Allocation) -> dict[str, str]:
    """A credential's `credentialStatus`: its bit in the list, as a BitstringStatusListEntry of revocation."""
    return {
        "id": f"{slot.list_url}#{slot.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(slot.index),
        "statusListCredential": slot.list_url,
    }


def allocate(session: Session, base_url: str, list_name: str = CERTIFICATES) -> Allocation:
    """Take the next bit of the list for a new certificate, publishing a longer list when it has run out."""
    return allocate_many(session, base_url, 1, list_name)[0]


def counter_name(list_name: str = CERTIFICATES) -> str:
    """The counter a list's bits are taken from (one more than the index of the last bit taken)."""
    return f"status-list:{list_name}"


def allocate_many(session: Session, base_url: str, count: int, list_name: str = CERTIFICATES) -> list[Allocation]:
    """Take the next `count` bits of the list at once, publishing a longer list when they run past its end."""
    return allocations(session, base_url, next_values(session, counter_name(list_name), count), list_name)


def allocations(session: Session, base_url: str, taken: range, list_name: str = CERTIFICATES) -> list[Allocation]:
    """The bits of values the caller took from the list's counter, publishing a longer list when they run past its
    end."""
    # Sequential bits: certificates are public records, so random placement would hide nothing.
    indexes = [value - 1 for value in taken]
    latest = latest_version(session, list_name)
    if latest is None or latest.length <= indexes[-1]:
        # The list must cover the bits before a verifier is pointed at them.
        latest = publish(session, base_url, list_name, min_index=indexes[-1])
    return covered_allocations(str(latest.credential["id"]), taken, list_name)


def covered_allocations(url: str, taken: range, list_name: str = CERTIFICATES) -> list[Allocation]:
    """The bits of values taken from the list's counter, which the list published at `url` already covers."""
    return [Allocation(list_name, value - 1, url) for value in taken]


def _length_for(index: int) -> int:
    length = max(MIN_LENGTH, (index // MIN_LENGTH + 1) * MIN_LENGTH)
    if length > MAX_LENGTH:
        raise StatusListError(f"status list is full at {MAX_LENGTH} entries")
    return length


def encode_bits(length: int, set_bits: list[int]) -> str:
    """The ``encodedList`` of a bitstring: multibase base64url (no padding) of its GZIP bytes; bit 0 leftmost."""
    bits = bytearray(length // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0 keeps the bytes a pure function of the bits.
    packed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_bits(encoded: str) -> bytes:
    """The raw bitstring of an ``encodedList``; refuses anything that inflates past the size limit."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url ('u' prefix)")
    try:
        packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    except (binascii.Error, ValueError):
        raise StatusListError("encodedList is not valid base64url") from None
    # Inflate with a cap: a status list comes from the network, and a small gzip can expand enormously.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(packed, MAX_LENGTH // 8 + 1)
    except zlib.error:
        raise StatusListError("encodedList is not valid GZIP data") from None
    if len(raw) > MAX_LENGTH // 8 or inflater.unconsumed_tail:
        raise StatusListError("encodedList inflates beyond the size limit")
    return raw


def bit_at(bits: bytes, index: int) -> bool:
    """Whether the bit at an index is set; refuses an index the list does not cover."""
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"status list index {index} is outside the list of {len(bits) * 8} entries")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _revoked_indexes(session: Session, list_name: str) -> list[int]:
    return list(
        session.exec(
            select(Certificate.status_index).where(
                Certificate.status_list == list_name, Certificate.status == "revoked"
            )
        ).all()
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def lock(session: Session) -> None:
    """Take the transparency log's lock until the transaction ends (a no-op on SQLite's single writer)."""
    # Certificate changes take it before anything else, so every lock they hold is taken in one order.
    log.lock(session)


def _list_url(latest: StatusListVersion | None, base_url: str | None, list_name: str) -> str:
    if latest is not None:
        return str(latest.credential["id"])  # the list keeps the URL its certificates point at
    if base_url is not None:
        return list_url(base_url, list_name)
    raise StatusListError(f"status list {list_name!r} has never been published and no base URL is known")


def _signed_list(session: Session, url: str, length: int, revoked: list[int]) -> tuple[SigningKey, dict[str, Any]]:
    """The list credential of these bits, signed now with the active issuer key."""
    now = now_of(session)
    key, private_key = keyring_of(session).signer(session, ISSUER)
    unsigned: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": key.name,
        "validFrom": _rfc3339(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_bits(length, revoked),
        },
    }
    return key, sign_credential(unsigned, private_key, did_key_verification_method(public_key_of(key)), now)


def _bits_of(version: StatusListVersion | None) -> list[int]:
    """The indexes set in a published version."""
    if version is None:
        return []
    bits = decode_bits(version.credential["credentialSubject"]["encodedList"])
    return [8 * at + n for at, byte in enumerate(bits) if byte for n in range(8) if byte & (0x80 >> n)]


def publish(
    session: Session,
    base_url: str | None,
    list_name: str = CERTIFICATES,
    *,
    min_index: int = -1,
    set_bits: Sequence[int] = (),
) -> StatusListVersion:
    """Sign, store and log a new version of the list from the current certificate rows, the bits of the version
    before, and `set_bits`."""
    lock(session)
    latest = latest_version(session, list_name)
    if latest is not None and min_index >= 0 and latest.length > min_index:
        return latest  # someone else published a version covering the bit while we waited for the lock
    url = _list_url(latest, base_url, list_name)
    session.flush()  # the revocation of this transaction must be among the bits
    revoked = sorted({*_revoked_indexes(session, list_name), *_bits_of(latest), *set_bits})
    length = max(latest.length if latest else 0, _length_for(max([min_index, *revoked], default=-1)))
    key, signed = _signed_list(session, url, length, revoked)
    digest = sha256_jcs(signed)
    version = (latest.version if latest else 0) + 1
    log_index = events.emit(
        session,
        "status_list.published",
        f"status_list:{list_name}",
        {
            "list": list_name,
            "url": url,
            "version": version,
            "length": length,
            "revoked": len(revoked),
            "credential_sha256": digest,
        },
    )
    row = StatusListVersion(
        list_name=list_name,
        version=version,
        length=length,
        credential=signed,
        credential_sha256=digest,
        issuer_key_id=key.id,
        log_index=log_index,
        created_at=now_of(session),
    )
    session.add(row)
    session.flush()
    return row
