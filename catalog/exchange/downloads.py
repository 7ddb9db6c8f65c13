"""The download policy: whether a file needs a grant, claiming and counting it, and how its bytes may go out.

Every download of a conditional file (a resumed range included) needs a live grant and uses one unit of its
quota once its bytes can flow: a download the service sends counts only after the object store has opened the
object, so a transfer that fails before its first byte uses nothing; one that nginx or the object store sends
counts when it is authorised. A revalidation or a HEAD request that sends no bytes still needs the grant but uses
nothing. Conditional files are never redirected to the object store: a presigned URL would outlive a revoked or
exhausted grant. Every download is on record; a HEAD request is not a download.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import and_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from catalog.datasets.access import effective_access, visible_dataset
from catalog.datasets.models import Dataset, DatasetFile, DatasetState, DatasetVersion
from catalog.exchange.grants import in_status, live
from catalog.exchange.models import AccessGrant, DownloadRecord
from catalog.exchange.schemas import GrantStatus
from registry.access import may_read_private
from registry.enums import Openness
from storage.config import StorageSettings
from storage.db import SessionFactory, now_of, upgrade_to_write
from storage.exceptions import Forbidden, NotFound
from storage.objects import ObjectStore
from storage.ranges import ByteRange, not_modified, parse_range, strong_etag


@dataclass(frozen=True)
class Downloadable:
    """A file the caller may fetch, and whether it takes a grant to fetch it."""

    dataset: Dataset
    file: DatasetFile
    # True when the caller needs a live grant for it (a conditional dataset, the caller not its entity or staff).
    conditional: bool = False


class Delivery(StrEnum):
    """How a download's bytes go out (the values are the modes its record shows)."""

    not_modified = "not_modified"  # a revalidation: the client has the bytes already
    accel = "accel"  # nginx sends them (X-Accel-Redirect)
    redirect = "redirect"  # the object store sends them, at a short-lived presigned URL
    send = "send"  # the service streams them; the record follows the transfer


@dataclass(frozen=True)
class DownloadTicket:
    """What a download's record needs, fixed when the download is authorised."""

    account_id: str | None
    grant_id: str | None
    dataset_id: str
    file_id: str
    provider_entity_id: str
    client_addr: str | None
    at: datetime
    transfer_id: str | None = None


@dataclass(frozen=True)
class Pin:
    """A download made in a data space transfer: under the transfer's own grant, and always sent by the service (so
    that it can be cut when the transfer's agreement stops holding)."""

    grant_id: str
    transfer_id: str


@dataclass(frozen=True)
class DownloadStart:
    """An authorised download: the file, its ETag, how its bytes go out, and the ticket its record is made from."""

    file: DatasetFile
    etag: str
    delivery: Delivery
    byte_range: ByteRange | None = None
    redirect_url: str | None = None
    ticket: DownloadTicket | None = None
    # A sent download's object, opened already: its local file, or a reader of its bytes (the range's alone).
    local_path: Path | None = None
    reader: Iterator[bytes] | None = None


@dataclass(frozen=True)
class DownloadHead:
    """What a HEAD request answers with: the file and its ETag, or that the client has its bytes already."""

    file: DatasetFile
    etag: str
    not_modified: bool


def downloadable(session: Session, caller: Caller, dataset_id: str, file_id: str) -> Downloadable:
    """A file the caller may see: published versions for readers, any for editors; conditional ones flagged."""
    dataset = visible_dataset(session, caller, dataset_id)
    record = session.get(DatasetFile, file_id)
    if record is None or record.dataset_id != dataset.id:
        raise NotFound("no such file")
    if may_read_private(caller, dataset.entity_id):
        return Downloadable(dataset=dataset, file=record)
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == record.version)
    ).one()
    if version.state != DatasetState.published:
        raise NotFound("no such file")
    conditional = effective_access(session, dataset) == Openness.conditional
    return Downloadable(dataset=dataset, file=record, conditional=conditional)


def start_download(
    session: Session,
    caller: Caller,
    store: ObjectStore,
    settings: StorageSettings,
    dataset_id: str,
    file_id: str,
    *,
    if_none_match: str | None,
    range_header: str | None,
    pin: Pin | None = None,
) -> DownloadStart:
    """Authorise one download, decide how its bytes go out, and count it once they can; see the module's rules."""
    found = downloadable(session, caller, dataset_id, file_id)
    file = found.file
    etag = strong_etag(file.sha256)
    if not_modified(if_none_match, etag):
        # No bytes go out, but a conditional file still needs a live grant to be confirmed.
        claim_download(session, caller, found, pin)
        session.commit()
        return DownloadStart(file=file, etag=etag, delivery=Delivery.not_modified)
    wanted = parse_range(range_header, file.size)
    # Refused here, before the object store is asked, when no live grant with quota left is there.
    ticket = claim_download(session, caller, found, pin)
    delivery, url = (Delivery.send, None) if pin else _delivery(store, settings, found)
    if delivery is not Delivery.send:
        # nginx or the object store sends the bytes: what was authorised is all there is to count and record.
        count_download(session, caller, ticket)
        span = (wanted.start, wanted.end) if wanted else None
        authorised = wanted.length if wanted else file.size
        record_download(session, ticket, mode=delivery.value, byte_range=span, bytes_sent=authorised, complete=True)
        session.commit()
        return DownloadStart(
            file=file, etag=etag, delivery=delivery, byte_range=wanted, redirect_url=url, ticket=ticket
        )
    # No transaction stays open while the object store answers (it may take its timeouts to say it cannot).
    session.commit()
    local_path, reader = _open_object(store, file, wanted)
    try:
        # Counted only now, with the object open: a store that cannot answer uses no quota.
        count_download(session, caller, ticket)
        session.commit()
    except BaseException:
        _close(reader)
        raise
    return DownloadStart(
        file=file,
        etag=etag,
        delivery=delivery,
        byte_range=wanted,
        ticket=ticket,
        local_path=local_path,
        reader=reader,
    )


def head_download(
    session: Session, caller: Caller, dataset_id: str, file_id: str, *, if_none_match: str | None
) -> DownloadHead:
    """Answer a HEAD request: the same checks as a download (a live grant for a conditional file), nothing used."""
    found = downloadable(session, caller, dataset_id, file_id)
    claim_download(session, caller, found)
    session.commit()
    etag = strong_etag(found.file.sha256)
    return DownloadHead(file=found.file, etag=etag, not_modified=not_modified(if_none_match, etag))


def _open_object(
    store: ObjectStore, file: DatasetFile, wanted: ByteRange | None
) -> tuple[Path | None, Iterator[bytes] | None]:
    """Open the object a sent download reads: its local file when the store has one, else a reader of its bytes."""
    local = store.local_path(file.sha256)
    if local is not None:
        return local, None
    if wanted is None:
        return None, store.open_range(file.sha256)
    return None, store.open_range(file.sha256, wanted.start, wanted.end)


def _close(reader: Iterator[bytes] | None) -> None:
    """Release an opened object's file or connection when its download will not be sent after all."""
    close = getattr(reader, "close", None)
    if callable(close):
        close()


def _delivery(store: ObjectStore, settings: StorageSettings, found: Downloadable) -> tuple[Delivery, str | None]:
    """How the bytes go out, and the presigned URL of a redirect."""
    if settings.download_mode == "accel":
        return Delivery.accel, None
    # Conditional files are never redirected: every request for them, resumed ranges included, comes back here.
    if settings.download_mode == "auto" and not found.conditional:
        url = store.presigned_get_url(
            found.file.sha256,
            expires=timedelta(seconds=settings.presigned_url_seconds),
            filename=found.file.name,
            media_type=found.file.media_type,
        )
        if url is not None:
            return Delivery.redirect, url
    return Delivery.send, None


def claim_download(session: Session, caller: Caller, found: Downloadable, pin: Pin | None = None) -> DownloadTicket:
    """Authorise one download: a conditional file needs a live grant with quota left (nothing is used yet); a pinned
    download needs its own grant."""
    now = now_of(session)
    grant_id: str | None = None
    if found.conditional:
        grant_id = _live_grant(session, caller, found.dataset.id, now, pin.grant_id if pin else None)
    return DownloadTicket(
        account_id=caller.account_id,
        grant_id=grant_id,
        dataset_id=found.dataset.id,
        file_id=found.file.id,
        provider_entity_id=found.dataset.entity_id,
        client_addr=caller.client_addr,
        at=now,
        transfer_id=pin.transfer_id if pin else None,
    )


def count_download(session: Session, caller: Caller, ticket: DownloadTicket) -> None:
    """Use one unit of the ticket's grant, if it has one; refuse when the grant stopped being live meanwhile."""
    if ticket.grant_id is None:
        return
    upgrade_to_write(session)
    # One conditional UPDATE: two downloads racing for the last unit of a quota cannot both win.
    result = session.execute(
        update(AccessGrant)
        .where(col(AccessGrant.id) == ticket.grant_id, _usable(caller, ticket.dataset_id, ticket.at))
        .values(downloads_used=AccessGrant.downloads_used + 1)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        session.rollback()
        raise _no_live_grant(session, caller, ticket.dataset_id, ticket.at)
    audit.record(session, caller, "grant.download", ticket.grant_id)


def _usable(caller: Caller, dataset_id: str, now: datetime) -> Any:
    """The condition of the caller's grants for the dataset that allow a download now."""
    return and_(col(AccessGrant.account_id) == caller.account_id, col(AccessGrant.dataset_id) == dataset_id, live(now))


def _no_live_grant(session: Session, caller: Caller, dataset_id: str, now: datetime) -> Forbidden:
    """The refusal for a caller without a live grant, saying when the grant starts if one is still to start."""
    starts = session.exec(
        select(AccessGrant.valid_from)
        .where(
            col(AccessGrant.account_id) == caller.account_id,
            col(AccessGrant.dataset_id) == dataset_id,
            in_status(GrantStatus.pending, now),
        )
        .order_by(col(AccessGrant.valid_from))
        .limit(1)
    ).first()
    if starts is not None:
        when = starts.isoformat().replace("+00:00", "Z")
        return Forbidden(f"your grant for this dataset starts at {when}", extra={"starts_at": when})
    return Forbidden("no live grant for this dataset: it expired, was revoked, is used up, or never was")


def _live_grant(session: Session, caller: Caller, dataset_id: str, now: datetime, only: str | None = None) -> str:
    """The caller's live grant for the dataset (the one that lasts longest, or the one `only` names)."""
    if caller.is_anonymous:
        raise Forbidden("this dataset's files are conditional: sign in and apply for access")
    statement = select(AccessGrant.id).where(_usable(caller, dataset_id, now))
    if only is not None:
        statement = statement.where(col(AccessGrant.id) == only)
    grant_id = session.exec(statement.order_by(col(AccessGrant.valid_until).desc()).limit(1)).first()
    if grant_id is None:
        raise _no_live_grant(session, caller, dataset_id, now)
    return grant_id


def finish_download(
    open_session: SessionFactory,
    ticket: DownloadTicket,
    *,
    mode: str,
    byte_range: ByteRange | None,
    bytes_sent: int,
    complete: bool,
) -> None:
    """Record a streamed transfer when it ended or broke off, in a transaction of its own."""
    span = (byte_range.start, byte_range.end) if byte_range else None
    with open_session(write=True) as session:
        record_download(session, ticket, mode=mode, byte_range=span, bytes_sent=bytes_sent, complete=complete)
        session.commit()


def record_download(
    session: Session,
    ticket: DownloadTicket,
    *,
    mode: str,
    byte_range: tuple[int, int] | None,
    bytes_sent: int,
    complete: bool,
) -> DownloadRecord:
    """Add a download record to the session's transaction (the caller commits)."""
    upgrade_to_write(session)
    record = DownloadRecord(
        account_id=ticket.account_id,
        grant_id=ticket.grant_id,
        dataset_id=ticket.dataset_id,
        file_id=ticket.file_id,
        provider_entity_id=ticket.provider_entity_id,
        mode=mode,
        range_start=byte_range[0] if byte_range else None,
        range_end=byte_range[1] if byte_range else None,
        bytes_sent=bytes_sent,
        complete=complete,
        client_addr=(ticket.client_addr or "")[:64] or None,
        at=ticket.at,
        transfer_id=ticket.transfer_id,
    )
    session.add(record)
    return record
