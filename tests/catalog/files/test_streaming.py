"""Bytes out over HTTP: a recorded response counts the bytes really sent, even when the client hangs up."""

from __future__ import annotations

import anyio
import pytest


def test_an_aborted_transfer_records_what_was_sent() -> None:
    from fastapi.responses import StreamingResponse
    from starlette.requests import ClientDisconnect
    from starlette.types import Message

    from catalog.files.streaming import RecordedResponse

    done: list[tuple[int, bool]] = []
    inner = StreamingResponse(iter([b"a" * 100, b"b" * 50, b"c" * 25]))
    response = RecordedResponse(inner, lambda sent, complete: done.append((sent, complete)))
    bodies = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 3:
                raise OSError("the client went away")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "asgi": {"spec_version": "2.4"}}
    # Starlette reports the broken connection as ClientDisconnect.
    with pytest.raises((OSError, ClientDisconnect)):
        anyio.run(response, scope, receive, send)
    assert done == [(150, False)]
