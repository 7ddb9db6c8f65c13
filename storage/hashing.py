"""SHA-256 in a thread of its own, so that hashing a stream overlaps what is done with it (writing it, receiving
more): hashlib lets go of the GIL while it hashes, so on two cores the two run side by side."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Sequence


class ThreadedSha256:
    """A SHA-256 fed in order with batches of pieces, which a thread of its own hashes while the feeder goes on."""

    def __init__(self, batches_ahead: int) -> None:
        self._sha = hashlib.sha256()
        self._failure: Exception | None = None
        # The batches handed over and not yet hashed: the feeder waits past this many, which bounds the memory.
        self._queue: queue.Queue[Sequence[bytes] | None] = queue.Queue(maxsize=batches_ahead)
        self._thread = threading.Thread(target=self._run, name="pdr-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (pieces := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # drained, so that the feeder never waits on a thread that stopped hashing
            try:
                for piece in pieces:
                    self._sha.update(piece)
            except Exception as failure:  # a piece that is not bytes: said where the digest is asked for
                self._failure = failure

    def update(self, pieces: Sequence[bytes]) -> None:
        """Hash the next pieces, after those handed over before them; the pieces must not change afterwards."""
        self._queue.put(pieces)

    def hexdigest(self) -> str:
        """The digest of everything handed over; the thread ends."""
        self.close()
        if self._failure is not None:
            raise self._failure
        return self._sha.hexdigest()

    def close(self) -> None:
        """End the thread once it has hashed what it was handed; safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
