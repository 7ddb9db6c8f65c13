"""HTTP routes of transfers: the native API (request, read, steps, token refresh), the data plane a transfer's access
token opens, and the provider side of the Dataspace Protocol's transfer process (HTTPS binding, under /dsp)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import JSONResponse

from auth.dependencies import Cursor, DbSession, Limit, SignedIn
from catalog.dataspace import transfer_data, transfer_messages, transfers
from catalog.dataspace.dependencies import TransferConfig, TransferRoute
from catalog.dataspace.documents import PROTOCOL_PATH
from catalog.dataspace.models import Transfer, TransferStep
from catalog.dataspace.router import protocol_errors
from catalog.dataspace.transfer import TransferAction
from catalog.dataspace.transfer_protocol import transfer_document, transfer_pid
from catalog.dataspace.transfer_schemas import (
    TransferCompletionIn,
    TransferCreate,
    TransferFilePublic,
    TransferPublic,
    TransferRequestIn,
    TransferStartIn,
    TransferStepIn,
    TransferStepPublic,
    TransferSuspensionIn,
    TransferTerminationIn,
)
from catalog.dataspace.transfers import Handout
from catalog.files.streaming import Watch, download_response
from catalog.web.dependencies import CatalogConfig, Sessions, StorageConfig, Store
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["data space"])
transfer_protocol_router = APIRouter(tags=["dataspace protocol"], route_class=TransferRoute)
TRANSFER_ERRORS = protocol_errors("TransferError", ("providerPid", "consumerPid"))
TRANSFER = PROTOCOL_PATH + "/transfers/{provider_pid}"
Authorization = Annotated[str | None, Header(description="Bearer <the transfer's access token>")]


def _public(
    transfer: Transfer, steps: list[TransferStep] | None = None, handout: Handout | None = None
) -> TransferPublic:
    shown = TransferPublic(provider_pid=transfer_pid(transfer), **transfer.model_dump())
    if handout is not None:
        shown.data_address = handout.address
    if steps is not None:
        shown.steps = [TransferStepPublic.model_validate(step, from_attributes=True) for step in steps]
    return shown


@router.post("/transfers", response_model=TransferPublic, status_code=status.HTTP_201_CREATED)
def create_transfer(
    body: TransferCreate, caller: SignedIn, session: DbSession, rules: TransferConfig
) -> TransferPublic:
    """Request a pull transfer under your finalized agreement: STARTED at once, with its data address and token."""
    handout = transfers.request_transfer(
        session, caller, body.agreement_id, rules, transfer_format=body.format, consumer_pid=body.consumer_pid
    )
    return _public(handout.transfer, transfers.steps_of(session, handout.transfer), handout)


@router.get("/transfers", response_model=Page[TransferPublic])
def list_transfers(
    caller: SignedIn,
    session: DbSession,
    agreement_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[TransferPublic]:
    """Your transfers as consumer, your entity's as provider (the staff: all), newest first."""
    page = transfers.list_transfers(session, caller, agreement_id=agreement_id, limit=limit, cursor=cursor)
    return Page[TransferPublic](items=[_public(t) for t in page.items], count=page.count, next_cursor=page.next_cursor)


@router.get("/transfers/{transfer_id}", response_model=TransferPublic)
def read_transfer(transfer_id: str, caller: SignedIn, session: DbSession) -> TransferPublic:
    """A transfer with every step: who took it, when, and the protocol message it was."""
    transfer = transfers.visible_transfer(session, caller, transfer_id)
    return _public(transfer, transfers.steps_of(session, transfer))


def _step(
    session: DbSession, caller: SignedIn, transfer_id: str, action: TransferAction, body: TransferStepIn | None
) -> TransferPublic:
    reason, code = (body.reason, body.code) if body else (None, None)
    transfer = transfers.take_step(session, caller, transfer_id, action, code=code, reason=reason)
    return _public(transfer, transfers.steps_of(session, transfer))


@router.post("/transfers/{transfer_id}/suspend", response_model=TransferPublic)
def suspend(
    transfer_id: str, caller: SignedIn, session: DbSession, body: TransferStepIn | None = None
) -> TransferPublic:
    """Either party suspends a running transfer (STARTED -> SUSPENDED): its data endpoint sends nothing meanwhile."""
    return _step(session, caller, transfer_id, TransferAction.suspend, body)


@router.post("/transfers/{transfer_id}/start", response_model=TransferPublic)
def restart(
    transfer_id: str, caller: SignedIn, session: DbSession, body: TransferStepIn | None = None
) -> TransferPublic:
    """Either party starts a suspended transfer again (SUSPENDED -> STARTED), if its agreement still holds."""
    return _step(session, caller, transfer_id, TransferAction.start, body)


@router.post("/transfers/{transfer_id}/complete", response_model=TransferPublic)
def complete(
    transfer_id: str, caller: SignedIn, session: DbSession, body: TransferStepIn | None = None
) -> TransferPublic:
    """Either party completes a running transfer (STARTED -> COMPLETED)."""
    return _step(session, caller, transfer_id, TransferAction.complete, body)


@router.post("/transfers/{transfer_id}/terminate", response_model=TransferPublic)
def terminate(
    transfer_id: str, caller: SignedIn, session: DbSession, body: TransferStepIn | None = None
) -> TransferPublic:
    """Either party ends a transfer that has not ended (-> TERMINATED); a download in progress is cut."""
    return _step(session, caller, transfer_id, TransferAction.terminate, body)


@router.post("/transfers/{transfer_id}/token", response_model=TransferPublic)
def refresh_token(transfer_id: str, caller: SignedIn, session: DbSession, rules: TransferConfig) -> TransferPublic:
    """The consumer gets a new access token for a running transfer; the one before stays good until it expires."""
    handout = transfers.refresh_token(session, caller, transfer_id, rules)
    return _public(handout.transfer, handout=handout)


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _opened(session: DbSession, request: Request, transfer_id: str, authorization: str | None) -> Transfer:
    """The running transfer the path names, opened by its own access token."""
    secret_key = request.app.state.settings.auth.secret_key.get_secret_value()
    return transfer_data.running_transfer(session, transfer_id, _bearer(authorization), secret_key)


@router.get("/transfers/{transfer_id}/data", response_model=list[TransferFilePublic])
def transfer_files(
    transfer_id: str, request: Request, session: DbSession, authorization: Authorization = None
) -> list[TransferFilePublic]:
    """The files a running transfer delivers (its access token as the bearer token), each with its URL."""
    transfer = _opened(session, request, transfer_id, authorization)
    client = request.client.host if request.client else None
    files = transfer_data.transfer_files(session, transfer, client)
    base = str(request.url).split("?")[0].rstrip("/")
    return [TransferFilePublic(url=f"{base}/{f.id}", **f.model_dump()) for f in files]


@router.get(
    "/transfers/{transfer_id}/data/{file_id}",
    response_model=None,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": {}}},
        206: {"description": "The range asked for", "content": {"application/octet-stream": {}}},
        304: {"description": "The file is what If-None-Match names"},
        416: {"description": "The range lies outside the file; Content-Range gives its size"},
    },
)
def transfer_download(
    transfer_id: str,
    file_id: str,
    request: Request,
    session: DbSession,
    storage: StorageConfig,
    store: Store,
    open_session: Sessions,
    settings: CatalogConfig,
    authorization: Authorization = None,
) -> Response:
    """Download a file of a running transfer under its agreement's grant; cut if the agreement stops holding."""
    transfer = _opened(session, request, transfer_id, authorization)
    start = transfer_data.start_transfer_download(
        session,
        transfer,
        store,
        storage,
        file_id,
        if_none_match=request.headers.get("if-none-match"),
        range_header=request.headers.get("range"),
        client_addr=request.client.host if request.client else None,
    )
    watch = Watch(lambda: transfer_data.stop_reason(open_session, transfer.id), settings.transfer_check_seconds)
    return download_response(start, storage, open_session, watch)


def _ack(transfer: Transfer, status_code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(transfer_document(transfer), status_code=status_code)


@transfer_protocol_router.post(
    PROTOCOL_PATH + "/transfers/request", status_code=status.HTTP_201_CREATED, responses=TRANSFER_ERRORS
)
def dsp_request(body: TransferRequestIn, caller: SignedIn, session: DbSession, rules: TransferConfig) -> JSONResponse:
    """A TransferRequestMessage: a pull transfer (201, TransferProcess); its start message goes to the callback."""
    return _ack(transfer_messages.open_transfer(session, caller, body, rules).transfer, status.HTTP_201_CREATED)


@transfer_protocol_router.get(TRANSFER, responses=TRANSFER_ERRORS)
def dsp_transfer(provider_pid: str, caller: SignedIn, session: DbSession) -> JSONResponse:
    """A transfer's TransferProcess (its consumer, its provider entity's members or the staff)."""
    return _ack(transfer_messages.found(session, caller, provider_pid))


@transfer_protocol_router.post(TRANSFER + "/start", responses=TRANSFER_ERRORS)
def dsp_start(provider_pid: str, body: TransferStartIn, caller: SignedIn, session: DbSession) -> JSONResponse:
    """The consumer's TransferStartMessage: a suspended transfer starts again (SUSPENDED -> STARTED)."""
    return _ack(transfer_messages.restart(session, caller, provider_pid, body))


@transfer_protocol_router.post(TRANSFER + "/completion", responses=TRANSFER_ERRORS)
def dsp_completion(provider_pid: str, body: TransferCompletionIn, caller: SignedIn, session: DbSession) -> JSONResponse:
    """The consumer's TransferCompletionMessage (STARTED -> COMPLETED)."""
    return _ack(transfer_messages.completion(session, caller, provider_pid, body))


@transfer_protocol_router.post(TRANSFER + "/termination", responses=TRANSFER_ERRORS)
def dsp_termination(
    provider_pid: str, body: TransferTerminationIn, caller: SignedIn, session: DbSession
) -> JSONResponse:
    """The consumer's TransferTerminationMessage (any running state -> TERMINATED)."""
    return _ack(transfer_messages.termination(session, caller, provider_pid, body))


@transfer_protocol_router.post(TRANSFER + "/suspension", responses=TRANSFER_ERRORS)
def dsp_suspension(provider_pid: str, body: TransferSuspensionIn, caller: SignedIn, session: DbSession) -> JSONResponse:
    """The consumer's TransferSuspensionMessage (STARTED -> SUSPENDED)."""
    return _ack(transfer_messages.suspension(session, caller, provider_pid, body))
