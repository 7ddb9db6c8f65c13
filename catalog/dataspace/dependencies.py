"""FastAPI pieces of the Dataspace Protocol's routes: every error they meet is answered in the protocol's shape (a
CatalogError, a ContractNegotiationError or a TransferError), and the rules negotiations and transfers follow."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from catalog.dataspace.documents import catalog_error
from catalog.dataspace.negotiation_protocol import negotiation_error
from catalog.dataspace.negotiations import Rules
from catalog.dataspace.transfer_protocol import transfer_error
from catalog.dataspace.transfers import TransferRules
from catalog.web.dependencies import BaseUrl, CatalogConfig
from storage.exceptions import DomainError

# A protocol message that cannot be read is a bad request in the protocol's terms.
UNREADABLE_STATUS = 400


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    return ".".join(parts[1:] if len(parts) > 1 and parts[0] in ("body", "query", "path") else parts)


class ProtocolRoute(APIRoute):
    """A route of the protocol's HTTPS binding: domain and validation errors become CatalogError messages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, answering errors in the protocol's own shape."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            """The route itself, its errors turned into CatalogErrors."""
            try:
                return await handler(request)
            except DomainError as error:
                if error.audited:
                    request.state.audited = True
                reasons = [error.detail] + [f"{e.field}: {e.message}" for e in error.errors]
                body = catalog_error(error.status, reasons)
                return JSONResponse(body, status_code=error.status, headers=error.headers or None)
            except RequestValidationError as error:
                reasons = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in error.errors()]
                body = catalog_error(UNREADABLE_STATUS, reasons or ["the message cannot be read"])
                return JSONResponse(body, status_code=UNREADABLE_STATUS)

        return guarded


def _pids(request: Request, body: bytes) -> tuple[str, str]:
    """The providerPid and consumerPid an error answers: the message's, else the path's."""
    provider = str(request.path_params.get("provider_pid", ""))
    consumer = ""
    try:
        message = json.loads(body) if body else None
    except ValueError:
        message = None
    if isinstance(message, dict):
        provider = str(message.get("providerPid") or provider)[:200]
        consumer = str(message.get("consumerPid") or "")[:200]
    return provider, consumer


class ProcessRoute(APIRoute):
    """A route of a process binding (negotiation, transfer): errors become the protocol's error message of the
    process, with the binding's statuses."""

    error_document: Callable[..., dict[str, Any]] = staticmethod(negotiation_error)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, answering errors in the protocol's own shape."""
        handler = super().get_route_handler()
        error_document = type(self).error_document

        async def guarded(request: Request) -> Response:
            """The route itself, its errors turned into the process's error messages."""
            try:
                return await handler(request)
            except DomainError as error:
                if error.audited:
                    request.state.audited = True
                # The binding: a wrong state transition is a 400, a caller not allowed is told 404.
                status = {409: 400, 403: 404}.get(error.status, error.status)
                reasons = [error.detail] + [f"{e.field}: {e.message}" for e in error.errors]
                provider, consumer = _pids(request, await request.body())
                body = error_document(status, reasons, provider=provider, consumer=consumer)
                return JSONResponse(body, status_code=status, headers=error.headers or None)
            except RequestValidationError as error:
                reasons = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in error.errors()]
                provider, consumer = _pids(request, await request.body())
                body = error_document(UNREADABLE_STATUS, reasons, provider=provider, consumer=consumer)
                return JSONResponse(body, status_code=UNREADABLE_STATUS)

        return guarded


class NegotiationRoute(ProcessRoute):
    """A route of the negotiation binding: errors become ContractNegotiationErrors."""

    error_document = staticmethod(negotiation_error)


class TransferRoute(ProcessRoute):
    """A route of the transfer binding: errors become TransferErrors."""

    error_document = staticmethod(transfer_error)


def negotiation_rules(settings: CatalogConfig, base: BaseUrl) -> Rules:
    """The rules negotiations follow, from the catalog's settings."""
    return Rules(
        fee_cap=settings.listing_fee_cap, auto_agree_free_welfare=settings.negotiation_auto_agree, base_url=base
    )


NegotiationRules = Annotated[Rules, Depends(negotiation_rules)]


def transfer_rules(request: Request, settings: CatalogConfig, base: BaseUrl) -> TransferRules:
    """The rules transfers follow, from the catalog's and the auth settings."""
    secret_key = request.app.state.settings.auth.secret_key.get_secret_value()
    return TransferRules(token_seconds=settings.transfer_token_seconds, base_url=base, secret_key=secret_key)


TransferConfig = Annotated[TransferRules, Depends(transfer_rules)]
