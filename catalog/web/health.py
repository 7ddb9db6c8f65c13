"""Readiness: whether the database answers at the current migration, the signing keys open, and the object store
takes writes; and whether the process is shutting down."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from functools import partial
from types import FrameType

from sqlalchemy import Engine, text

from registry import keys
from storage import migrate
from storage.db import error_summary, session_scope
from storage.exceptions import DomainError
from storage.objects import ObjectStore

log = logging.getLogger("pdr.health")

# The signals on which the server shuts down gracefully (uvicorn's), and so on which this process stops being ready.
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], object]


class Drain:
    """Whether this process is shutting down: from the first SIGTERM on, readiness fails while requests still finish.

    With a delay, the server keeps serving that long before it stops accepting, so that a load balancer polling
    /readyz takes the process out of rotation first.
    """

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.draining = False
        self.delay_seconds = delay_seconds

    def install(self) -> None:
        """Watch the shutdown signals ahead of the server's own handlers, which this passes them on to."""
        # Only the main thread gets signals: an app served from a test's thread never shuts down by one.
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for number in SHUTDOWN_SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous):
                signal.signal(number, partial(self._on_signal, loop, previous))

    def _on_signal(
        self, loop: asyncio.AbstractEventLoop, previous: Handler, number: int, frame: FrameType | None
    ) -> None:
        first = not self.draining
        self.draining = True
        if not first or self.delay_seconds <= 0:
            previous(number, frame)  # a second signal stops at once, as it would without the delay
            return
        log.info("shutting down: not ready, serving for %.1f s more before closing", self.delay_seconds)
        loop.call_soon_threadsafe(loop.call_later, self.delay_seconds, previous, number, None)


def readiness(engine: Engine, store: ObjectStore, keyring: keys.KeyRing) -> dict[str, str]:
    """Each dependency's state: "ok", or what is wrong with it in words an operator can act on."""
    checks: dict[str, str] = {}
    key_state = "unknown"
    try:
        with session_scope(engine, write=False) as session:
            session.connection().execute(text("SELECT 1"))
            checks["database"] = "ok"
            checks["migrations"] = "ok" if migrate.is_current(engine) else "behind: run `pdr init`"
            if checks["migrations"] == "ok":
                key_state = keys.readiness(session, keyring)
    except Exception as error:  # any driver error means "not ready"; the log has its kind, the client nothing
        log.warning("readiness: database check failed: %s", error_summary(error))
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    # Production signs only with encrypted keys, so it always reports them. In development the answer keeps its
    # three checks unless the keys fail (missing, or not opening), which would make issuing answer 503.
    if keyring.require_encrypted or key_state not in ("ok", "unknown"):
        checks["keys"] = key_state
    try:
        store.check_writable()
        checks["object_store"] = "ok"
    except DomainError:
        checks["object_store"] = "not writable"
    return checks
