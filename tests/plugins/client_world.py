"""The client's world: the exchange's cast served by a real uvicorn, with a TCP proxy a test can cut."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from tests.support.exchange import World
from tests.support.live import free_port, serving
from tests.support.tcp_proxy import TcpProxy


@dataclass
class Served:
    """The service's base URL, the same through a proxy that can be stopped, and the exchange's cast."""

    url: str
    proxied: str
    proxy: TcpProxy
    world: World


@pytest.fixture
def live_port() -> int:
    """The port the app is served on, known before the app is built (so a test's settings can name it)."""
    return free_port()


@pytest.fixture
def served(app: FastAPI, world: World, live_port: int) -> Iterator[Served]:
    """The app under uvicorn on `live_port`, and a proxy in front of it."""
    with serving(app, port=live_port) as url:
        port = int(url.rsplit(":", 1)[1])
        with TcpProxy("127.0.0.1", port) as proxy:
            yield Served(url, f"http://127.0.0.1:{proxy.port}", proxy, world)
