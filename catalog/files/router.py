"""HTTP routes for payload files: streamed upload, listing, and download with ranges and ETags."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from auth.dependencies import AnyCaller, DbSession, SignedIn
from catalog.datasets.models import DatasetFile
from catalog.exchange.downloads import Delivery, DownloadStart, finish_download, start_download
from catalog.files import service
from catalog.files.schemas import FilePublic
from catalog.files.streaming import RecordedResponse, body_pieces, object_response, upload_file_pieces
from catalog.web.dependencies import Sessions, StorageConfig, Store
from storage.config import StorageSettings
from storage.exceptions import FieldProblem, InvalidInput, PayloadTooLarge
from storage.objects import ObjectStore, content_disposition, object_key

router = APIRouter(tags=["files"])

# A multipart form carries its file and a little more: boundaries, headers and small fields.
MULTIPART_OVERHEAD = 64 * 1024


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


@router.post("/api/v1/datasets/{dataset_id}/files", response_model=FilePublic, status_code=201)
async def upload_file(
    dataset_id: str,
    request: Request,
    caller: SignedIn,
    session: DbSession,
    settings: StorageConfig,
    store: Store,
    name: Annotated[str | None, Query(max_length=1024)] = None,
    sha256: Annotated[str | None, Query()] = None,
    size: Annotated[int | None, Query()] = None,
) -> DatasetFile:
    """Upload a payload: the raw body (name in ?name= or X-Filename), or multipart with a `file` field."""
    limit = settings.max_upload_bytes
    service.check_declared(sha256, size, limit)
    declared_length = request.headers.get("content-length", "")
    overhead = MULTIPART_OVERHEAD if _is_multipart(request) else 0
    if declared_length.isdigit() and int(declared_length) > limit + overhead:
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes", extra={"max_size": limit})
    # Permission and state first: a refused upload reads no byte of the body.
    await run_in_threadpool(service.prepare_upload, session, caller, dataset_id)
    if _is_multipart(request):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "a multipart upload carries its file in the field `file`", errors=[FieldProblem("file", "required")]
            )
        file_name, media_type, chunks = upload.filename, upload.content_type, upload_file_pieces(upload)
    else:
        file_name = name or unquote(request.headers.get("x-filename", ""))
        media_type, chunks = request.headers.get("content-type"), body_pieces(request.stream())
    record: DatasetFile = await run_in_threadpool(
        service.store_and_record,
        session,
        caller,
        store,
        dataset_id,
        chunks,
        name=service.safe_file_name(file_name),
        media_type=service.media_type_of(media_type),
        sha256=sha256,
        size=size,
        max_size=limit,
    )
    return record


@router.get("/api/v1/datasets/{dataset_id}/files", response_model=list[FilePublic])
def list_files(dataset_id: str, caller: AnyCaller, session: DbSession) -> list[DatasetFile]:
    """The files of the versions the caller may see, newest version first."""
    return service.files_of(session, caller, dataset_id)


@router.get("/api/v1/datasets/{dataset_id}/files/{file_id}/content", response_model=None)
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
    return _download_response(start, store, settings, open_session)


def _download_response(
    start: DownloadStart, store: ObjectStore, settings: StorageSettings, open_session: Sessions
) -> Response:
    """The response that carries out an authorised download the way the download policy decided."""
    file = start.file
    if start.delivery is Delivery.not_modified:
        return Response(status_code=304, headers={"ETag": start.etag})
    if start.delivery is Delivery.redirect:
        assert start.redirect_url is not None
        return RedirectResponse(start.redirect_url, status_code=302, headers={"Cache-Control": "no-store"})
    headers = {"ETag": start.etag, "Content-Disposition": content_disposition(file.name), "Cache-Control": "private"}
    if start.delivery is Delivery.accel:
        accel = f"{settings.accel_redirect_prefix}/{object_key(file.sha256)}"
        return Response(headers={**headers, "X-Accel-Redirect": accel}, media_type=file.media_type)
    assert start.ticket is not None
    inner, mode = object_response(store, file.sha256, file.size, file.media_type, start.byte_range, headers)
    record = partial(finish_download, open_session, start.ticket, mode=mode, byte_range=start.byte_range)
    return RecordedResponse(inner, lambda sent, done: record(bytes_sent=sent, complete=done))
