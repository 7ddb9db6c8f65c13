"""Draining in one process: from the first shutdown signal on, /readyz answers 503 while the server still serves,
and the signal reaches the server's own handler (at once, or after the drain delay; a second one at once)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog.web.health import SHUTDOWN_SIGNALS, Drain


@pytest.fixture
def server_handler() -> Iterator[list[int]]:
    """Stand in for the server's own signal handlers (uvicorn's), recording the signals they get."""
    received: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, frame: received.append(number)) for number in SHUTDOWN_SIGNALS
    }
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_without_a_delay_the_signal_reaches_the_server_at_once(server_handler: list[int]) -> None:
    async def scenario() -> Drain:
        drain = Drain()
        drain.install()
        os.kill(os.getpid(), signal.SIGTERM)
        return drain

    assert asyncio.run(scenario()).draining
    assert server_handler == [signal.SIGTERM]


def test_with_a_delay_the_server_keeps_serving_unready_until_a_second_signal(server_handler: list[int]) -> None:
    async def scenario() -> None:
        drain = Drain(delay_seconds=600)
        drain.install()
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.1)
        assert drain.draining and server_handler == []
        # An operator who will not wait: the second signal is the server's at once.
        os.kill(os.getpid(), signal.SIGINT)
        assert server_handler == [signal.SIGINT]

    asyncio.run(scenario())


def test_a_draining_process_answers_503_to_readyz_and_still_serves(app: FastAPI, client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200
    app.state.drain.draining = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["checks"] == {"shutdown": "in progress"}
    assert client.get("/api/v1/datasets").status_code == 200
    assert client.get("/healthz").status_code == 200
