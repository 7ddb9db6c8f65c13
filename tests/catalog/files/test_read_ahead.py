"""A request body read ahead on the event loop while a worker thread takes it: all of it, in order, within a bound;
a failure to read reaches the thread as itself; a refusal stops the reading at once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.to_thread
import pytest

from catalog.files.read_ahead import CHUNKS_AHEAD, read_ahead_into

MIB = 1024 * 1024
T = TypeVar("T")


async def _chunks(count: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for index in range(count):
        yield bytes([index % 256]) * size


def _in_thread(take: Callable[[Iterator[bytes]], T]) -> Callable[[Iterator[bytes]], Awaitable[T]]:
    """A store that hands the pieces to `take` in a worker thread, as an upload's store does."""

    async def store(pieces: Iterator[bytes]) -> T:
        return await anyio.to_thread.run_sync(take, pieces)

    return store


def test_the_thread_gets_every_chunk_in_order() -> None:
    async def main() -> list[bytes]:
        return await read_ahead_into(_chunks(100), _in_thread(list))

    expected = [bytes([index % 256]) * (64 * 1024) for index in range(100)]
    assert anyio.run(main) == expected


def test_reading_ahead_stops_at_its_bound_while_the_thread_is_busy() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * MIB

    def take_one_then_linger(pieces: Iterator[bytes]) -> int:
        next(pieces)
        time.sleep(0.3)  # time for the reading to run as far ahead as it may
        return pulled

    async def main() -> int:
        return await read_ahead_into(endless(), _in_thread(take_one_then_linger))

    seen = anyio.run(main)
    # The chunks the thread took in one trip (at most those held), as many held anew, one read and waiting for room,
    # and the one the source counted before giving it.
    assert seen <= 2 * CHUNKS_AHEAD + 2


def test_a_failure_to_read_reaches_the_thread_as_itself() -> None:
    gone = ConnectionResetError("the client went away")

    async def breaking() -> AsyncIterator[bytes]:
        yield b"a" * MIB
        yield b"b" * MIB
        raise gone

    def drain(pieces: Iterator[bytes]) -> int:
        return sum(len(piece) for piece in pieces)

    async def main() -> int:
        return await read_ahead_into(breaking(), _in_thread(drain))

    with pytest.raises(ConnectionResetError) as caught:
        anyio.run(main)
    assert caught.value is gone


def test_a_refusal_stops_the_reading_even_while_the_client_sends_nothing() -> None:
    async def stalling() -> AsyncIterator[bytes]:
        yield b"a" * 10
        await anyio.sleep_forever()
        yield b"never"

    def refuse(pieces: Iterator[bytes]) -> None:
        next(pieces)
        raise ValueError("too large")

    async def main() -> None:
        with anyio.fail_after(10):
            return await read_ahead_into(stalling(), _in_thread(refuse))

    with pytest.raises(ValueError, match="too large"):
        anyio.run(main)
