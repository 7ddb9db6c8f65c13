"""HTTP routes for payload files: streamed upload, listing, and download with ranges and ETags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from auth.dependencies import AnyCaller, DbSession, SignedIn
from catalog.datasets.models import DatasetFile
from catalog.exchange.downloads import head_download, start_download
from catalog.files import service
from catalog.files.dependencies import Uploads
from catalog.files.limits import StallGuard, UploadBounds, UploadSlots
from catalog.files.read_ahead import read_ahead_into
from catalog.files.schemas import FilePublic
from catalog.files.streaming import (
    download_response,
    file_headers,
    guarded_request,
    upload_file_pieces,
)
from catalog.web.dependencies import Sessions, StorageConfig, Store
from storage.exceptions import FieldProblem, InvalidInput, PayloadTooLarge

router = APIRouter(tags=["files"])

# A multipart form carries its file and a little more: boundaries, headers and small fields.
MULTIPART_OVERHEAD = 64 * 1024

CONTENT_PATH = "/api/v1/datasets/{dataset_id}/files/{file_id}/content"

# What stores a body once it is known: (chunks, file name, media type) -> the recorded file.
StoreBody = Callable[[Iterator[bytes], str | None, str | None], DatasetFile]


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


@router.post(
    "/api/v1/datasets/{dataset_id}/files",
    response_model=FilePublic,
    status_code=201,
    responses={
        408: {"description": "The body stalled, or came slower than the minimum rate; nothing was kept"},
        429: {"description": "The account's uploads are at their bound; see Retry-After"},
    },
)
async def upload_file(
    dataset_id: str,
    request: Request,
    caller: SignedIn,
    session: DbSession,
    settings: StorageConfig,
    store: Store,
    slots: Uploads,
    name: Annotated[str | None, Query(max_length=1024)] = None,
    sha256: Annotated[str | None, Query()] = None,
    size: Annotated[int | None, Query()] = None,
) -> DatasetFile:
    """Upload a payload: the raw body (name in ?name= or X-Filename), or multipart with a `file` field."""
    limit = settings.max_upload_bytes
    service.check_declared(sha256, size, limit)
    multipart = _is_multipart(request)
    overhead = MULTIPART_OVERHEAD if multipart else 0
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > limit + overhead:
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes", extra={"max_size": limit})
    bounds = UploadBounds.of(settings)
    # A slot before anything else: over a bound the answer is 429 or 503 at once, and the body is never read.
    with slots.hold(caller.account_id or "", bounds):
        # Permission and state next: a refused upload reads no byte of the body.
        await slots.run(partial(service.prepare_upload, session, caller, dataset_id))
        body = guarded_request(request, StallGuard(bounds, max_size=limit, overhead=overhead))

        def store_body(chunks: Iterator[bytes], file_name: str | None, media_type: str | None) -> DatasetFile:
            return service.store_and_record(
                session,
                caller,
                store,
                dataset_id,
                chunks,
                name=service.safe_file_name(file_name),
                media_type=service.media_type_of(media_type, service.safe_file_name(file_name)),
                sha256=sha256,
                size=size,
                max_size=limit,
            )

        if multipart:
            return await _store_form(body, slots, store_body)
        file_name = name or unquote(request.headers.get("x-filename", ""))
        media_type = request.headers.get("content-type")
        return await read_ahead_into(
            body.stream(), lambda chunks: slots.run(partial(store_body, chunks, file_name, media_type))
        )


async def _store_form(body: Request, slots: UploadSlots, store_body: StoreBody) -> DatasetFile:
    """Read a multipart form (under the body's stall guard), then store its `file` field."""
    async with body.form(max_files=1, max_fields=5) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "a multipart upload carries its file in the field `file`", errors=[FieldProblem("file", "required")]
            )
        chunks = upload_file_pieces(upload)
        return await slots.run(partial(store_body, chunks, upload.filename, upload.content_type))


@router.get("/api/v1/datasets/{dataset_id}/files", response_model=list[FilePublic])
def list_files(dataset_id: str, caller: AnyCaller, session: DbSession) -> list[DatasetFile]:
    """The files of the versions the caller may see, newest version first."""
    return service.files_of(session, caller, dataset_id)


@router.get(
    CONTENT_PATH,
    response_model=None,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": {}}},
        206: {"description": "The range asked for", "content": {"application/octet-stream": {}}},
        302: {"description": "Go to a short-lived URL of the object store (S3, unconditional files)"},
        304: {"description": "The file is what If-None-Match names"},
        416: {"description": "The range lies outside the file; Content-Range gives its size"},
    },
)
def download_file(
    dataset_id: str,
    file_id: str,
    request: Request,
    caller: AnyCaller,
    session: DbSession,
    settings: StorageConfig,
    store: Store,
    open_session: Sessions,
) -> Response:
    """Download a file: ranges, ETag and If-None-Match; on S3 a redirect to a short-lived URL; always recorded."""
    start = start_download(
        session,
        caller,
        store,
        settings,
        dataset_id,
        file_id,
        if_none_match=request.headers.get("if-none-match"),
        range_header=request.headers.get("range"),
    )
    return download_response(start, settings, open_session)


@router.head(
    CONTENT_PATH, response_model=None, responses={304: {"description": "The file is what If-None-Match names"}}
)
def download_head(dataset_id: str, file_id: str, request: Request, caller: AnyCaller, session: DbSession) -> Response:
    """The headers a download would carry, with no body; it needs what a download needs, but is none."""
    head = head_download(session, caller, dataset_id, file_id, if_none_match=request.headers.get("if-none-match"))
    if head.not_modified:
        return Response(status_code=304, headers={"ETag": head.etag})
    file = head.file
    headers = {**file_headers(file.name, head.etag, file.created_at), "Content-Length": str(file.size)}
    return Response(headers=headers, media_type=file.media_type)
