"""Upload bounds: per-process upload slots (in total and per account), and the stall guard over a body.

A slot is taken before any byte of a body is read and given back when the upload ends, however it ends; the
blocking work of an upload (hashing, writing, recording) runs in a thread of the uploads' own limiter, so uploads
at their bound never take the threads that reads and health checks need. A body that sends no byte for the idle
timeout, or whose average rate is below the minimum once the grace period is over, is cut with a 408. Only the
time spent waiting for the client counts: a slow disk or object store does not make the client too slow.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread

from storage.config import StorageSettings
from storage.exceptions import DomainError, PayloadTooLarge, ServiceUnavailable, TooManyRequests

T = TypeVar("T")


class UploadTimeout(DomainError):
    """The body of an upload stalled or trickled in too slowly; what arrived of it is gone (408)."""

    status = 408
    title = "Request timeout"
    type_slug = "request-timeout"

    def __init__(self, detail: str) -> None:
        # The rest of the body is never read: the connection cannot carry another request.
        super().__init__(detail, headers={"Connection": "close"})


@dataclass(frozen=True)
class UploadBounds:
    """How many uploads may run at once, and how slow a body may be, as the settings say now."""

    total: int
    per_account: int
    idle_seconds: float
    min_bytes_per_second: int
    grace_seconds: float

    @classmethod
    def of(cls, settings: StorageSettings) -> UploadBounds:
        """The bounds the object store's settings set."""
        return cls(
            total=settings.upload_slots,
            per_account=settings.upload_slots_per_account,
            idle_seconds=settings.upload_idle_timeout_seconds,
            min_bytes_per_second=settings.upload_min_bytes_per_second,
            grace_seconds=settings.upload_rate_grace_seconds,
        )

    @property
    def retry_after(self) -> str:
        """Retry-After for a refused upload: within the idle timeout a stalled upload holding a slot is cut."""
        return str(max(1, math.ceil(self.idle_seconds)))


class UploadSlots:
    """The uploads in progress in this process, per account, and the thread limiter their blocking work uses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_account: Counter[str] = Counter()
        # Sized to the total bound as slots are taken; one thread per slot, so it never makes an upload wait.
        self.limiter = anyio.CapacityLimiter(1)

    @property
    def in_progress(self) -> int:
        """How many uploads hold a slot now."""
        return self._total

    @contextmanager
    def hold(self, account_id: str, bounds: UploadBounds) -> Iterator[None]:
        """Hold one slot for the account while the block runs; refuse at once when a bound is reached."""
        self._take(account_id, bounds)
        try:
            yield
        finally:
            self._give_back(account_id)

    async def run(self, func: Callable[[], T]) -> T:
        """Run an upload's blocking work in a thread of the uploads' limiter, not of the shared pool."""
        return await anyio.to_thread.run_sync(func, limiter=self.limiter)

    def _take(self, account_id: str, bounds: UploadBounds) -> None:
        with self._lock:
            if self._by_account[account_id] >= bounds.per_account:
                raise TooManyRequests(
                    f"this account has {bounds.per_account} uploads in progress already, as many as it may; "
                    "retry when one has finished",
                    headers={"Retry-After": bounds.retry_after, "Connection": "close"},
                    extra={"max_uploads": bounds.per_account},
                )
            if self._total >= bounds.total:
                raise ServiceUnavailable(
                    "the service is taking as many uploads as it can; retry later",
                    headers={"Retry-After": bounds.retry_after, "Connection": "close"},
                )
            self._total += 1
            self._by_account[account_id] += 1
            if self.limiter.total_tokens != bounds.total:
                self.limiter.total_tokens = bounds.total

    def _give_back(self, account_id: str) -> None:
        with self._lock:
            self._total -= 1
            self._by_account[account_id] -= 1
            if self._by_account[account_id] <= 0:
                del self._by_account[account_id]


class StallGuard:
    """Keeps count of a body's bytes and of the time spent waiting for them; says how long the next wait may be."""

    def __init__(self, bounds: UploadBounds, *, max_size: int | None = None, overhead: int = 0) -> None:
        self.bounds = bounds
        # A multipart body carries its file and a little more (boundaries, part headers, small fields).
        self.max_size = max_size
        self.max_bytes = None if max_size is None else max_size + overhead
        self.received = 0
        self.waited = 0.0

    def allowance(self) -> tuple[float, bool]:
        """How long the next wait for the client may last, and whether the minimum rate (not idleness) bounds it."""
        bounds = self.bounds
        if bounds.min_bytes_per_second <= 0:
            return bounds.idle_seconds, False
        # The average stays at or above the minimum while waited <= received / rate, and is not judged in the grace.
        budget = max(bounds.grace_seconds, self.received / bounds.min_bytes_per_second) - self.waited
        if budget >= bounds.idle_seconds:
            return bounds.idle_seconds, False
        return max(budget, 0.0), True

    def cut(self, by_rate: bool) -> UploadTimeout:
        """The error that ends a body whose wait ran out."""
        if by_rate:
            return UploadTimeout(
                f"the upload arrived slower than {self.bounds.min_bytes_per_second} bytes per second on average; "
                "nothing of it was kept"
            )
        return UploadTimeout(
            f"no byte of the upload arrived for {self.bounds.idle_seconds:g} seconds; nothing of it was kept"
        )

    def count(self, waited: float, received: int) -> None:
        """Add one wait and the bytes it brought; refuse a body that grows past the byte limit."""
        self.waited += waited
        self.received += received
        if self.max_bytes is not None and self.received > self.max_bytes:
            raise PayloadTooLarge(
                f"the upload is larger than the limit of {self.max_size} bytes", extra={"max_size": self.max_size}
            )
