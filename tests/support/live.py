"""A real server for tests that need real connections: the app under uvicorn on a local port, and raw HTTP/1.1
requests whose bodies a test can stall, trickle or cut off at will."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import anyio.to_thread
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from deploy.local_nginx import free_port


def _with_default_threads(app: ASGIApp, threads: int) -> ASGIApp:
    """The app, with the server loop's shared thread pool (what `def` routes run in) cut to `threads`."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The default limiter belongs to the running event loop: set it from inside the server's loop.
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        await app(scope, receive, send)

    return wrapped


@contextmanager
def serving(
    app: ASGIApp, *, default_threads: int | None = None, port: int | None = None, root_logging: bool = False
) -> Iterator[str]:
    """Serve the app with uvicorn in a thread of this process (on `port`, or a free one); yields its base URL.

    With `root_logging`, uvicorn leaves logging as it is and logs through the root logger, like `pdr serve`.
    """
    port = port or free_port()
    target = app if default_threads is None else _with_default_threads(app, default_threads)
    config = uvicorn.Config(
        target,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None if root_logging else uvicorn.config.LOGGING_CONFIG,
        log_level=None if root_logging else "warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class RawResponse:
    """A response read off a socket: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def open_request(base_url: str, head: str, body: bytes = b"") -> socket.socket:
    """Send an HTTP/1.1 request head (lines without the blank one) and the first bytes of a body; return the socket."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
    return sock


def has_answered(sock: socket.socket) -> bool:
    """Whether any byte of a response has arrived on the socket (without waiting for one)."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def read_response(sock: socket.socket, timeout: float = 15) -> RawResponse:
    """Read one whole response: up to its Content-Length, or to the end of the connection."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"the connection closed before a response head: {data!r}"
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return RawResponse(int(lines[0].split()[1]), headers, body)


def upload_head(dataset_id: str, token: str, *, length: int, content_type: str = "application/octet-stream") -> str:
    """The head of a raw upload of `length` bytes to a dataset."""
    return (
        f"POST /api/v1/datasets/{dataset_id}/files?name=stalled.bin HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {length}"
    )
