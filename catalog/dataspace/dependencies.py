"""FastAPI pieces of the Dataspace Protocol's routes: every error they meet is answered as a CatalogError."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from catalog.dataspace.documents import catalog_error
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
