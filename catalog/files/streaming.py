"""Bytes in and out over HTTP: request bodies read under a stall guard and handed to a worker thread as plain
iterators, and downloads whose bytes really sent are counted and recorded when the response ends, and cut when a
watch over them says to stop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive, Scope, Send

from catalog.exchange.downloads import Delivery, DownloadStart, finish_download
from catalog.files.limits import StallGuard
from storage.config import StorageSettings
from storage.db import SessionFactory
from storage.objects import content_disposition, object_key
from storage.ranges import ByteRange

log = logging.getLogger("pdr.payloads")

# A multipart form's file, spooled by the form parser, is read back in pieces of this size.
UPLOAD_PIECE = 1024 * 1024


def guarded_request(request: Request, guard: StallGuard) -> Request:
    """The same request, whose body (raw or multipart) is read under the guard: a stall or a trickle ends it."""

    receive = request.receive

    async def guarded_receive() -> Message:
        allowance, by_rate = guard.allowance()
        started = time.monotonic()
        with anyio.move_on_after(allowance) as waiting:
            message = await receive()
        if waiting.cancelled_caught:
            raise guard.cut(by_rate)
        guard.count(time.monotonic() - started, len(message.get("body", b"")))
        return message

    return Request(request.scope, guarded_receive)


def upload_file_pieces(upload: UploadFile) -> Iterator[bytes]:
    """The bytes of a multipart form's file, piece by piece."""
    while piece := upload.file.read(UPLOAD_PIECE):
        yield piece


class PayloadFileResponse(FileResponse):
    """A file's bytes read a MiB at a time: each read is a hop to a worker thread, and 64 KiB hops cost a download
    about a quarter of its server's time."""

    chunk_size = UPLOAD_PIECE


def file_headers(name: str, etag: str, created_at: datetime) -> dict[str, str]:
    """The headers every answer about a file's bytes carries, to GET and HEAD alike."""
    return {
        "ETag": etag,
        "Content-Disposition": content_disposition(name),
        # The file's own time: its object is shared by every file with the same bytes, and older than some of them.
        "Last-Modified": formatdate(created_at.timestamp(), usegmt=True),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private",
    }


def object_response(
    local: Path | None,
    reader: Iterator[bytes] | None,
    size: int,
    media_type: str,
    wanted: ByteRange | None,
    headers: dict[str, str],
) -> tuple[Response, str]:
    """The response that sends an opened object's bytes, and its mode on record: from a local file, or streamed."""
    if local is not None:
        # Starlette serves ranges from the file itself (sendfile where it can).
        return PayloadFileResponse(local, media_type=media_type, headers=headers), "file"
    assert reader is not None
    if wanted is None:
        return StreamingResponse(
            reader, media_type=media_type, headers={**headers, "Content-Length": str(size)}
        ), "stream"
    return StreamingResponse(
        reader,
        status_code=206,
        media_type=media_type,
        headers={
            **headers,
            "Content-Length": str(wanted.length),
            "Content-Range": f"bytes {wanted.start}-{wanted.end}/{size}",
        },
    ), "stream"


class RecordedResponse(Response):
    """Send another response, counting the body bytes that really went out, then report them to on_done."""

    def __init__(self, inner: Response, on_done: Callable[[int, bool], None]) -> None:
        # Not Response.__init__: the inner response owns the body and the headers.
        self.inner = inner
        self.on_done = on_done
        self.status_code = inner.status_code
        self.raw_headers = inner.raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the inner response through a counting `send`; report in a shielded worker even when cancelled."""
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
                await anyio.to_thread.run_sync(self._report, sent, done)

    def _report(self, sent: int, done: bool) -> None:
        try:
            self.on_done(sent, done)
        except Exception:  # the bytes went out already: a lost record must not turn the send into an error
            log.exception("could not record a transfer of %s bytes", sent)


class WatchedResponse(Response):
    """Send another response while `check` allows it: run in a worker thread every `every` seconds, it names a reason
    to stop or None. A stop cuts the body where it is; the connection is closed, so the client sees a short body."""

    def __init__(self, inner: Response, check: Callable[[], str | None], every: float) -> None:
        # Not Response.__init__: the inner response owns the body and the headers.
        self.inner = inner
        self.check = check
        self.every = every
        self.status_code = inner.status_code
        self.raw_headers = inner.raw_headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the inner response and the watch side by side; whichever ends first ends the other."""
        reason: str | None = None
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal reason
                while reason is None:
                    await anyio.sleep(self.every)
                    reason = await anyio.to_thread.run_sync(self.check)
                group.cancel_scope.cancel()

            async def respond() -> None:
                await self.inner(scope, receive, send)
                group.cancel_scope.cancel()

            group.start_soon(watch)
            group.start_soon(respond)
        if reason is not None:
            log.info("a download was cut: %s", reason)


@dataclass(frozen=True)
class Watch:
    """What a watched download checks (a reason to stop, or None) and how often, in seconds."""

    check: Callable[[], str | None]
    every: float


def download_response(
    start: DownloadStart, settings: StorageSettings, open_session: SessionFactory, watch: Watch | None = None
) -> Response:
    """The response that carries out an authorised download the way the download policy decided; a sent one is
    recorded when it ends, and cut when its watch says to stop."""
    file = start.file
    if start.delivery is Delivery.not_modified:
        return Response(status_code=304, headers={"ETag": start.etag})
    if start.delivery is Delivery.redirect:
        assert start.redirect_url is not None
        return RedirectResponse(start.redirect_url, status_code=302, headers={"Cache-Control": "no-store"})
    headers = file_headers(file.name, start.etag, file.created_at)
    if start.delivery is Delivery.accel:
        accel = f"{settings.accel_redirect_prefix}/{object_key(file.sha256)}"
        return Response(headers={**headers, "X-Accel-Redirect": accel}, media_type=file.media_type)
    assert start.ticket is not None
    inner, mode = object_response(start.local_path, start.reader, file.size, file.media_type, start.byte_range, headers)
    if watch is not None:
        inner = WatchedResponse(inner, watch.check, watch.every)
    record = partial(finish_download, open_session, start.ticket, mode=mode, byte_range=start.byte_range)
    return RecordedResponse(inner, lambda sent, done: record(bytes_sent=sent, complete=done))
