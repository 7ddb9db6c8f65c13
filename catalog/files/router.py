"""HTTP routes for payload files: streamed upload, listing, and download with ranges and ETags."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated
from urllib.parse import unquote

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive, Scope, Send

from auth.caller import Caller
from auth.dependencies import AnyCaller, DbSession, SignedIn
from catalog import exchange, payloads
from catalog.models import DatasetFile
from storage.config import StorageSettings
from storage.db import session_scope
from storage.exceptions import DomainError, FieldProblem, InvalidInput, PayloadTooLarge
from storage.objects import ObjectStore, content_disposition, object_key

router = APIRouter(tags=["files"])
log = logging.getLogger("pdr.payloads")

# Pull the request body in pieces of about this size per hop from the worker thread to the event loop;
# each hop costs tens of microseconds, so bigger pieces mean faster uploads, at this much memory each.
UPLOAD_PIECE = 1024 * 1024


class FilePublic(BaseModel):
    """A payload file of a dataset version."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    version: int
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


class RangeNotSatisfiableProblem(DomainError):
    """The requested range lies outside the file."""

    status = 416
    title = "Range not satisfiable"
    type_slug = "range-not-satisfiable"


def _body_pieces(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body as a plain iterator for the worker thread, a few MiB per trip to the event loop."""

    async def next_chunks() -> list[bytes]:
        chunks: list[bytes] = []
        held = 0
        async for chunk in stream:
            chunks.append(chunk)
            held += len(chunk)
            if held >= UPLOAD_PIECE:
                break
        return chunks

    # Chunks are passed on as they came: joining them would copy every byte once more.
    while chunks := anyio.from_thread.run(next_chunks):
        yield from chunks


def _upload_file_pieces(upload: UploadFile) -> Iterator[bytes]:
    while piece := upload.file.read(UPLOAD_PIECE):
        yield piece


def _settings(request: Request) -> StorageSettings:
    settings: StorageSettings = request.app.state.settings.objects
    return settings


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.object_store
    return store


@router.post("/api/v1/datasets/{dataset_id}/files", response_model=FilePublic, status_code=201)
async def upload_file(
    dataset_id: str,
    request: Request,
    caller: SignedIn,
    session: DbSession,
    name: Annotated[str | None, Query(max_length=1024)] = None,
    sha256: Annotated[str | None, Query()] = None,
    size: Annotated[int | None, Query()] = None,
) -> DatasetFile:
    """Upload a payload: the raw body (name in ?name= or X-Filename), or multipart with a `file` field."""
    settings = _settings(request)
    limit = settings.max_upload_bytes
    payloads.check_declared(sha256, size, limit)
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > limit + (64 * 1024 if _is_multipart(request) else 0):
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes", extra={"max_size": limit})
    # Permission and state first: a refused upload reads no byte of the body.
    await run_in_threadpool(_check_upload_allowed, session, caller, dataset_id)
    if _is_multipart(request):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "a multipart upload carries its file in the field `file`", errors=[FieldProblem("file", "required")]
            )
        file_name, media_type, chunks = upload.filename, upload.content_type, _upload_file_pieces(upload)
    else:
        file_name = name or unquote(request.headers.get("x-filename", ""))
        media_type, chunks = request.headers.get("content-type"), _body_pieces(request.stream())
    record: DatasetFile = await run_in_threadpool(
        payloads.store_and_record,
        session,
        caller,
        _store(request),
        dataset_id,
        chunks,
        name=payloads.safe_file_name(file_name),
        media_type=payloads.media_type_of(media_type),
        sha256=sha256,
        size=size,
        max_size=limit,
    )
    return record


def _check_upload_allowed(session: Session, caller: Caller, dataset_id: str) -> None:
    payloads.draft_for_upload(session, caller, dataset_id)
    # End the transaction: no lock or connection is held while the body streams in.
    session.commit()


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


@router.get("/api/v1/datasets/{dataset_id}/files", response_model=list[FilePublic])
def list_files(dataset_id: str, caller: AnyCaller, session: DbSession) -> list[DatasetFile]:
    """The files of the versions the caller may see, newest version first."""
    return payloads.files_of(session, caller, dataset_id)


@router.get("/api/v1/datasets/{dataset_id}/files/{file_id}/content", response_model=None)
def download_file(
    dataset_id: str, file_id: str, request: Request, caller: AnyCaller, session: DbSession
) -> Response:
    """Download a file: ranges, ETag and If-None-Match; on S3 a redirect to a short-lived URL; always recorded."""
    found = payloads.downloadable(session, caller, dataset_id, file_id)
    record = found.file
    etag = payloads.etag_of(record)
    headers = {"ETag": etag, "Content-Disposition": content_disposition(record.name), "Cache-Control": "private"}
    if payloads.not_modified(request.headers.get("if-none-match"), etag):
        # No bytes go out, but a conditional file still needs a live grant to be confirmed.
        exchange.claim_download(session, caller, found.dataset, record, conditional=found.conditional, count=False)
        session.commit()
        return Response(status_code=304, headers={"ETag": etag})
    try:
        wanted = payloads.parse_range(request.headers.get("range"), record.size)
    except payloads.RangeNotSatisfiable as exc:
        raise RangeNotSatisfiableProblem(
            f"the file has {record.size} bytes", headers={"Content-Range": f"bytes */{record.size}"}
        ) from exc
    # Every request that sends bytes, a resumed range included, needs a live grant and uses one unit of its quota.
    ticket = exchange.claim_download(session, caller, found.dataset, record, conditional=found.conditional, count=True)
    span = (wanted.start, wanted.end) if wanted else None
    authorised = wanted.length if wanted else record.size
    settings, store = _settings(request), _store(request)
    if settings.download_mode == "accel":
        # nginx sends the bytes: what was authorised is all we can record.
        exchange.record_download(session, ticket, mode="accel", byte_range=span, bytes_sent=authorised, complete=True)
        session.commit()
        return Response(
            headers={**headers, "X-Accel-Redirect": f"{settings.accel_redirect_prefix}/{object_key(record.sha256)}"},
            media_type=record.media_type,
        )
    # Conditional files are never redirected: a presigned URL would outlive a revoked or exhausted grant, so every
    # request for them, resumed ranges included, comes back here to be checked.
    if settings.download_mode == "auto" and not found.conditional:
        url = store.presigned_get_url(
            record.sha256,
            expires=timedelta(seconds=settings.presigned_url_seconds),
            filename=record.name,
            media_type=record.media_type,
        )
        if url is not None:
            exchange.record_download(
                session, ticket, mode="redirect", byte_range=span, bytes_sent=authorised, complete=True
            )
            session.commit()
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    session.commit()  # nothing below reads the database: give the connection back before sending bytes
    local = store.local_path(record.sha256)
    if local is not None:
        # Starlette serves ranges from the file itself (sendfile where it can).
        inner: Response = FileResponse(local, media_type=record.media_type, headers=headers)
        mode = "file"
    else:
        inner = _proxied(store, record, wanted, headers)
        mode = "stream"
    engine: Engine = request.app.state.engine
    return RecordedResponse(inner, partial(_record_transfer, engine, ticket, mode, span))


def _record_transfer(
    engine: Engine, ticket: exchange.DownloadTicket, mode: str, span: tuple[int, int] | None, sent: int, done: bool
) -> None:
    """Record a finished or aborted transfer in a transaction of its own; a failure here must not hide the send."""
    try:
        with session_scope(engine) as session:
            exchange.record_download(session, ticket, mode=mode, byte_range=span, bytes_sent=sent, complete=done)
            session.commit()
    except Exception:
        log.exception("could not record a download of file %s", ticket.file_id)


class RecordedResponse(Response):
    """Send another response, counting the body bytes that really went out, then record the download."""

    def __init__(self, inner: Response, on_done: Callable[[int, bool], None]) -> None:
        # Not Response.__init__: the inner response owns the body and the headers.
        self.inner = inner
        self.on_done = on_done
        self.status_code = inner.status_code
        self.raw_headers = inner.raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the inner response through a counting `send`; record in a shielded worker even when cancelled."""
        sent = 0
        done = False

        async def counting_send(message: Message) -> None:
            nonlocal sent, done
            await send(message)
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                done = not message.get("more_body", False)

        # Without the pathsend extension FileResponse sends the bytes itself, so they can be counted.
        extensions = {k: v for k, v in (scope.get("extensions") or {}).items() if k != "http.response.pathsend"}
        try:
            await self.inner({**scope, "extensions": extensions}, receive, counting_send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.on_done, sent, done)


def _proxied(
    store: ObjectStore, record: DatasetFile, wanted: payloads.ByteRange | None, headers: dict[str, str]
) -> Response:
    """Stream the object through the service, honouring a single range."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    if wanted is None:
        return StreamingResponse(
            store.open_range(record.sha256),
            media_type=record.media_type,
            headers={**headers, "Content-Length": str(record.size)},
        )
    return StreamingResponse(
        store.open_range(record.sha256, wanted.start, wanted.end),
        status_code=206,
        media_type=record.media_type,
        headers={
            **headers,
            "Content-Length": str(wanted.length),
            "Content-Range": f"bytes {wanted.start}-{wanted.end}/{record.size}",
        },
    )
