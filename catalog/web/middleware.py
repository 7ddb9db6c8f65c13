"""One pure-ASGI middleware for every request: request id, body limit, security headers, metrics, access log, the
answer to errors no handler took (503 for a database that cannot serve, 500 otherwise, nothing to a client that
hung up), and the refused-request audit."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.audit import record_anonymous_refusal, record_failure
from auth.caller import Caller
from catalog.web.logs import request_id_var
from catalog.web.metrics import Metrics
from catalog.web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, database_unavailable, internal_error
from storage.db import error_summary, errors_in, unavailable_reason

log = logging.getLogger("pdr.access")
errors_log = logging.getLogger("pdr.errors")

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# nginx's status for a request whose client closed the connection before the answer was complete.
CLIENT_CLOSED = 499
# What Starlette and anyio raise when the client has gone. An OSError counts only when writing the answer raised
# it (see `_watched_send`): one from an outgoing connection (the object store) is no business of the client's.
_CLIENT_GONE = (ClientDisconnect, anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)
# Every answer: no content sniffing, and no full URL (ids, search terms) in the Referer sent to other sites.
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"))
# HTML pages: never inside another site's frame (clickjacking).
_FRAME_ANCESTORS = b"frame-ancestors 'none'"


class _BodyTooLarge(HTTPException):
    """The request body passed the limit while it was being read.

    An HTTPException, because FastAPI turns any other error raised while reading a body into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


@dataclass
class _Exchange:
    """What became of one request: the status sent, how far the answer got, and whether the client stayed."""

    request_id: str
    status: int = 500
    started: bool = False
    complete: bool = False
    client_gone: bool = False
    database_down: bool = False
    note: str = ""


def _security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower(): value for name, value in headers}
    added = [(name, value) for name, value in _ALWAYS if name not in present]
    if present.get(b"content-type", b"").lower().startswith(b"text/html"):
        policy = present.get(b"content-security-policy")
        if policy is None:
            added.append((b"content-security-policy", _FRAME_ANCESTORS))
        elif b"frame-ancestors" not in policy:
            headers = [(n, v) for n, v in headers if n.lower() != b"content-security-policy"]
            added.append((b"content-security-policy", policy.rstrip(b"; ") + b"; " + _FRAME_ANCESTORS))
        if b"x-frame-options" not in present:
            added.append((b"x-frame-options", b"DENY"))
    return headers + added


def client_went_away(error: BaseException) -> bool:
    """Whether the error only says that the client closed the connection (every member of a group, too)."""
    leaves = [e for e in errors_in(error) if not isinstance(e, BaseExceptionGroup)]
    return isinstance(error, _CLIENT_GONE) or (bool(leaves) and all(isinstance(e, _CLIENT_GONE) for e in leaves))


class RequestMiddleware:
    """Wraps every HTTP request of the app."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, streaming_paths: re.Pattern[str]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.streaming_paths = streaming_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request inside the bookkeeping."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self._request_id(scope))
        scope.setdefault("state", {})["request_id"] = exchange.request_id
        # Not reset at the end: the server's own lines about this request (uvicorn writes them in the same task,
        # after the app returns) carry the id too. Each request runs in a task, and so a context, of its own.
        request_id_var.set(exchange.request_id)
        started = time.perf_counter()
        try:
            receive, send = self._watched_receive(receive, exchange), self._watched_send(send, exchange)
            await self._serve(scope, receive, send, exchange)
        finally:
            if exchange.client_gone:
                exchange.status, exchange.note = CLIENT_CLOSED, " (client closed the connection)"
            await self._account(scope, exchange, time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange) -> None:
        limit = None if self.streaming_paths.match(scope["path"]) else self.max_body_bytes
        try:
            if limit is not None and self._declared_length(scope) > limit:
                await self._send_too_large(scope, send, exchange.request_id, limit)
            else:
                await self.app(scope, self._limited(receive, limit), send)
        except _BodyTooLarge:
            if exchange.started:  # a route that answers before it has read the body: nothing left but to cut it
                exchange.note = " (answer cut short: the request body was too large)"
                return
            await self._send_too_large(scope, send, exchange.request_id, limit or 0)
        except Exception as error:  # every error no handler took ends here, and only here
            await self._answer_error(scope, receive, send, exchange, error)

    @staticmethod
    async def _answer_error(scope: Scope, receive: Receive, send: Send, exchange: _Exchange, error: Exception) -> None:
        """Turn an error into its answer and one log line; the server never sees it (it would log its text)."""
        if exchange.client_gone or client_went_away(error):
            exchange.client_gone = True  # nobody to answer, and nothing went wrong on our side
            return
        reason = unavailable_reason(error)
        if reason is not None:
            exchange.database_down = True
            errors_log.warning("database unavailable (%s): %s", reason, error_summary(error))
        else:
            errors_log.error("unhandled error: %s", error_summary(error), exc_info=error)
        if exchange.started:
            # Part of the answer is out (or all of it, and a background task failed): all that is left is to cut
            # the connection, which the server does when the app returns without completing the response.
            exchange.note = " (failed after answering)" if exchange.complete else " (answer cut short)"
            return
        request = Request(scope)
        response = database_unavailable(request) if reason is not None else internal_error(request)
        await response(scope, receive, send)

    @staticmethod
    def _watched_receive(receive: Receive, exchange: _Exchange) -> Receive:
        async def watched_receive() -> Message:
            message = await receive()
            # Servers also answer "disconnect" once the response is complete; before that it means the client left.
            if message["type"] == "http.disconnect" and not exchange.complete:
                exchange.client_gone = True
            return message

        return watched_receive

    @staticmethod
    def _watched_send(send: Send, exchange: _Exchange) -> Send:
        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status, exchange.started = message["status"], True
                headers = _security_headers(list(message.get("headers", [])))
                headers.append((b"x-request-id", exchange.request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                exchange.complete = True
            try:
                await send(message)
            except OSError:
                exchange.client_gone = True
                raise

        return watched_send

    async def _account(self, scope: Scope, exchange: _Exchange, elapsed: float) -> None:
        """Metrics, the access line and, for a refused change, the audit trail."""
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe(scope["method"], route, exchange.status, elapsed)
        log.info(
            "%s %s %s%s",
            scope["method"],
            self._logged_path(scope),
            exchange.status,
            exchange.note,
            extra={"route": route, "status": exchange.status, "duration_ms": round(elapsed * 1000, 2)},
        )
        refused = 400 <= exchange.status < 600 and exchange.status != CLIENT_CLOSED
        # With the database down there is nowhere to write the row, and trying would only wait for it again.
        if scope["method"] in STATE_CHANGING and refused and not exchange.database_down:
            await self._audit_refusal(scope, route, exchange.status)

    @staticmethod
    def _logged_path(scope: Scope) -> str:
        # The path as the client sent it, still percent-encoded (as nginx logs it); the formatter escapes the rest.
        raw = scope.get("raw_path")
        return bytes(raw).decode("latin-1") if isinstance(raw, bytes | bytearray) else str(scope["path"])

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate: str = bytes(value).decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    return candidate
        # An id, not a secret: the Mersenne Twister draws one with no system call (secrets pays getrandom per id).
        return f"{random.getrandbits(128):032x}"

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    @staticmethod
    def _limited(receive: Receive, limit: int | None) -> Receive:
        if limit is None:
            return receive
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        return limited_receive

    @staticmethod
    async def _send_too_large(scope: Scope, send: Send, request_id: str, limit: int) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_TYPE_BASE + "payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"the request body is larger than {limit} bytes",
                "instance": scope["path"],
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _audit_refusal(scope: Scope, route: str, status: int) -> None:
        state: dict[str, Any] = scope.get("state", {})
        if state.get("audited"):
            return
        app_state: Any = getattr(scope.get("app"), "state", None)
        if getattr(app_state, "engine", None) is None:  # the lifespan has not opened the database
            return
        open_session = app_state.open_session
        caller = state.get("caller")
        if not isinstance(caller, Caller):
            client = scope.get("client")
            caller = Caller(request_id=state.get("request_id"), client_addr=client[0] if client else None)
        action = f"{scope['method']} {route}"
        # Anonymous refusals are only counted: anyone can send them, as many as they like.
        write = record_anonymous_refusal if caller.is_anonymous else record_failure
        try:
            await anyio.to_thread.run_sync(write, open_session, caller, action, scope["path"], status)
        except Exception as error:  # the answer is already sent; a lost audit row must not hide the original outcome
            if unavailable_reason(error) is not None:
                errors_log.warning("could not write the audit row of a refused request: the database is unavailable")
            else:
                errors_log.error("could not write the audit row of a refused request", exc_info=error)
