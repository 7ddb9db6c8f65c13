"""HTTP routes of data services: a listed API product called through pdr, which forwards each call to the
provider's service URL and relays the answer as it comes, metering it against the caller's grant
(catalog.exchange.service_calls), and the calls on record."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from auth.dependencies import Cursor, DbSession, Limit, SignedIn
from catalog.config import CatalogSettings
from catalog.exchange import service_calls
from catalog.exchange.schemas import ServiceCallPublic
from catalog.exchange.service_calls import CallOutcome, CallTicket
from catalog.files.streaming import RecordedResponse
from catalog.web.dependencies import CatalogConfig, Sessions
from storage.db import SessionFactory
from storage.exceptions import BadGateway, GatewayTimeout, PayloadTooLarge
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

if TYPE_CHECKING:
    import httpx

router = APIRouter(prefix="/api/v1", tags=["exchange"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# What a call carries to the provider, and what of the provider's answer comes back; the rest (the caller's
# credentials and cookies above all) stays behind.
REQUEST_HEADERS = ("accept", "accept-encoding", "accept-language", "content-type", "if-none-match", "if-modified-since")
ANSWER_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-length",
    "content-type",
    "etag",
    "last-modified",
)


class _Relay(StreamingResponse):
    """The provider's answer relayed as it comes; the connection to the provider closed however the relay ends."""

    def __init__(self, upstream: httpx.Response, client: httpx.AsyncClient) -> None:
        headers = {name: upstream.headers[name] for name in ANSWER_HEADERS if name in upstream.headers}
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code, headers=headers)
        self.upstream = upstream
        self.client = client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Relay, then close the provider's connection even when the caller went away."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()
                await self.client.aclose()


async def _body(request: Request, limit: int) -> bytes:
    """The call's body, refused past the limit before more than the limit is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"a data service call's body is at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"a data service call's body is at most {limit} bytes")
    return bytes(body)


def _headers(request: Request, ticket: CallTicket) -> dict[str, str]:
    forwarded = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    forwarded["x-pdr-consumer"] = ticket.account_id
    if ticket.grant_id is not None:
        forwarded["x-pdr-grant"] = ticket.grant_id
    return forwarded


async def _failed(
    open_session: SessionFactory, ticket: CallTicket, method: str, status: int, sent: int, began: float
) -> None:
    outcome = CallOutcome(method, status, sent, 0, False, int((time.monotonic() - began) * 1000))
    await run_in_threadpool(service_calls.record_call, open_session, ticket, outcome)


async def _forward(
    request: Request, ticket: CallTicket, body: bytes, settings: CatalogSettings, open_session: SessionFactory
) -> tuple[httpx.Response, httpx.AsyncClient, float]:
    """Send the call to the provider; its answer's head (the body still to come), the client, and when it began."""
    # Imported at the first call: httpx brings its command line (rich, click, Pygments) where those are installed.
    import httpx

    client = httpx.AsyncClient(timeout=httpx.Timeout(settings.service_timeout_seconds, connect=5.0))
    began = time.monotonic()
    outgoing = client.build_request(
        request.method, ticket.upstream_url, headers=_headers(request, ticket), content=body
    )
    try:
        return await client.send(outgoing, stream=True), client, began
    except httpx.TimeoutException:
        await client.aclose()
        await _failed(open_session, ticket, request.method, 504, len(body), began)
        raise GatewayTimeout("the data service did not answer in time; no quota was used") from None
    except httpx.HTTPError as error:
        await client.aclose()
        await _failed(open_session, ticket, request.method, 502, len(body), began)
        raise BadGateway(f"the data service could not be reached ({type(error).__name__}); no quota was used") from None


SERVICE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The data service's answer, relayed as it came"},
    502: {"description": "The data service could not be reached; nothing was used"},
    504: {"description": "The data service did not answer in time; nothing was used"},
}


async def call_service(
    listing_id: str,
    path: str,
    request: Request,
    caller: SignedIn,
    session: DbSession,
    open_session: Sessions,
    settings: CatalogConfig,
) -> Response:
    """Call a listed data service through pdr (GET, POST, PUT, PATCH or DELETE): your live grant for its product is
    checked, one unit of its quota used once the service answers, and the call recorded; the answer comes back as the
    service gave it."""
    query = request.url.query
    ticket = await run_in_threadpool(service_calls.authorize_call, session, caller, listing_id, path, query)
    body = await _body(request, settings.service_max_request_bytes)
    upstream, client, began = await _forward(request, ticket, body, settings, open_session)
    try:
        await run_in_threadpool(service_calls.count_call, session, caller, ticket)
    except BaseException:
        await upstream.aclose()
        await client.aclose()
        raise
    head = CallOutcome(request.method, upstream.status_code, len(body), 0, False, 0)
    return RecordedResponse(_Relay(upstream, client), _recorder(open_session, ticket, head, began))


# One route a method, each with an operation id of its own (one route of several methods would give them one id).
# PUT, PATCH and DELETE are forwarded as GET and POST are, and described by them: the bundled Swagger UI stops
# rendering the document, in headless Chromium at least, once it holds about 137 operations.
for _method in METHODS:
    router.add_api_route(
        "/listings/{listing_id}/service/{path:path}",
        call_service,
        methods=[_method],
        response_model=None,
        responses=SERVICE_ANSWERS,
        operation_id=f"call_service_{_method.lower()}",
        include_in_schema=_method in ("GET", "POST"),
    )


def _recorder(
    open_session: SessionFactory, ticket: CallTicket, head: CallOutcome, began: float
) -> Callable[[int, bool], None]:
    """What records the call once its answer was relayed (or broke off), with the bytes that went out."""

    def record(received: int, complete: bool) -> None:
        took = int((time.monotonic() - began) * 1000)
        service_calls.record_call(
            open_session, ticket, replace(head, response_bytes=received, complete=complete, duration_ms=took)
        )

    return record


@router.get("/service-calls", response_model=Page[ServiceCallPublic])
def list_service_calls(
    caller: SignedIn,
    session: DbSession,
    listing_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ServiceCallPublic]:
    """Your calls to data services; your entity's services' calls as provider (the staff: all), newest first."""
    page = service_calls.list_calls(session, caller, listing_id=listing_id, limit=limit, cursor=cursor)
    return Page[ServiceCallPublic].model_validate(page, from_attributes=True)
