"""One pure-ASGI middleware for every request: request id, body limit, metrics, access log, refused-request audit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.audit import record_failure
from auth.caller import Caller
from catalog.web.logs import request_id_var
from catalog.web.metrics import Metrics
from catalog.web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

log = logging.getLogger("pdr.access")

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _BodyTooLarge(HTTPException):
    """The request body passed the limit while it was being read.

    An HTTPException, because FastAPI turns any other error raised while reading a body into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


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
        request_id = self._request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        context_token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        limit = None if self.streaming_paths.match(scope["path"]) else self.max_body_bytes

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if limit is not None and self._declared_length(scope) > limit:
                status = 413
                await self._send_too_large(scope, send_with_id, request_id, limit)
            else:
                await self.app(scope, self._limited(receive, limit), send_with_id)
        except _BodyTooLarge:
            if response_started:
                raise
            status = 413
            await self._send_too_large(scope, send_with_id, request_id, limit or 0)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)},
            )
            if scope["method"] in STATE_CHANGING and status >= 400:
                await self._audit_refusal(scope, route, status)
            request_id_var.reset(context_token)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate: str = bytes(value).decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    return candidate
        return uuid.uuid4().hex

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
        try:
            await anyio.to_thread.run_sync(record_failure, open_session, caller, action, scope["path"], status)
        except Exception:  # the answer is already sent; a lost audit row must not hide the original outcome
            log.exception("could not write the audit row of a refused request")
