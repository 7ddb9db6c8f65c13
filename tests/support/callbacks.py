"""A consumer's callback endpoint for the Dataspace Protocol tests: a local HTTP server keeping every message
POSTed to it, with the path it came to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

from deploy.local_nginx import free_port

Received = list[tuple[str, dict[str, Any]]]


class _Callback(BaseHTTPRequestHandler):
    """Keeps every message POSTed to it."""

    received: ClassVar[Received] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def callback_server() -> Iterator[tuple[str, Received]]:
    """A callback address on a local port (ending in /callback/), and the messages it receives."""
    received: Received = []
    handler = type("Callback", (_Callback,), {"received": received})
    server = HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/callback/", received
    finally:
        server.shutdown()
        server.server_close()


def wait_for(received: Received, count: int, seconds: float = 30.0) -> Received:
    """The messages received once there are `count` of them (they are sent from a thread of their own)."""
    deadline = time.monotonic() + seconds
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return received
