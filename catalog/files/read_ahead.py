"""A request body read ahead on the event loop while a worker thread hashes and writes what came before it.

Pulled piece by piece from the thread, the body would wait for each hash and write, and they for it: the socket
is read only when the thread asks. Read ahead into a small bounded buffer, the two overlap on two cores, and the
buffer's bound still holds the client back (TCP flow control) when storage is the slower side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.from_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

# Chunks held between the two sides. A chunk is what one read of the socket gave (at most 256 KiB with uvicorn),
# and the thread takes what is held in one trip, so an upload holds at most twice this many: 4 MiB.
CHUNKS_AHEAD = 8
T = TypeVar("T")


class ReadAhead:
    """Run `fill` on the event loop and iterate `pieces` in the worker thread; `fill` ends when the body does, or when
    reading it fails (the thread then raises that failure)."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._stream = stream
        send, receive = anyio.create_memory_object_stream[bytes](CHUNKS_AHEAD)
        self._send: MemoryObjectSendStream[bytes] = send
        self._receive: MemoryObjectReceiveStream[bytes] = receive
        self._failure: Exception | None = None

    async def fill(self) -> None:
        """Read the body into the buffer until it ends."""
        async with self._send:
            try:
                async for chunk in self._stream:
                    await self._send.send(chunk)
            except Exception as failure:  # a stall cut, a client gone: the thread raises it where it reads
                self._failure = failure  # set before the end of the buffer is, which the thread sees next

    async def _take(self) -> list[bytes]:
        """The chunks waiting, at least one (waiting for it); none once the body has ended."""
        try:
            taken = [await self._receive.receive()]
        except anyio.EndOfStream:
            return []
        # Everything that is there in one trip: each trip from the thread to the event loop costs tens of
        # microseconds, as much as hashing and writing a few KiB.
        while True:
            try:
                taken.append(self._receive.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream):
                return taken

    def pieces(self) -> Iterator[bytes]:
        """The body's chunks, for the worker thread; raises what reading the body failed with."""
        while taken := anyio.from_thread.run(self._take):
            yield from taken
        if self._failure is not None:
            raise self._failure from None


async def read_ahead_into(stream: AsyncIterator[bytes], store: Callable[[Iterator[bytes]], Awaitable[T]]) -> T:
    """Await `store` on the body's chunks while the body is read ahead; whatever `store` ends with, reading stops."""
    reader = ReadAhead(stream)
    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(reader.fill)
        try:
            stored = await store(reader.pieces())
        except Exception as exc:  # raised outside the group, which would wrap it in an ExceptionGroup
            failure = exc
        # Stored or refused, the rest of the body is not wanted: a fill waiting on the client must not hold the
        # answer back.
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return stored
