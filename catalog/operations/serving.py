"""`pdr serve`: prepare the embedded database, refuse to start unprepared, and run uvicorn's workers.

`pdr serve` runs this module in a process of its own (`python -m catalog.operations.serving HOST PORT WORKERS`): the
command line's modules, typer and rich, are then not in the memory of a serving worker.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from types import FrameType

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from catalog.operations import common
from catalog.settings import Settings
from catalog.web.logs import configure_logging, logging_config
from registry import keys
from storage import migrate
from storage.db import error_summary, session_scope, unavailable_reason

# How long a worker process may take to answer its supervisor's first health check: a new process imports the whole
# service, which on a busy machine takes longer than uvicorn's default (5 s), and a worker not answering is replaced.
# Workers start together on the same cores, so each one more makes every one of them slower to start.
WORKER_START_SECONDS = 30
WORKER_START_SECONDS_EACH = 10


def _worker_start_budget(workers: int) -> int:
    """Seconds the supervisor waits for a worker's answer before it replaces the worker."""
    return WORKER_START_SECONDS + WORKER_START_SECONDS_EACH * workers


def _stop_on_sigterm(number: int, frame: FrameType | None) -> None:
    """SIGTERM before the server takes over its signals, or passed on after it shut down gracefully: a clean exit."""
    raise SystemExit(0)


def _is_embedded_default(settings: Settings) -> bool:
    return make_url(settings.db.database_url).get_backend_name() == "sqlite"


def _serving_problem(engine: Engine, settings: Settings) -> str | None:
    """What would make the service answer 503 to every registry write, naming the fix; None when nothing would."""
    try:
        if not migrate.is_current(engine):
            return "the database schema is not at the newest revision; run `pdr init` (migrations and keys) first"
        with session_scope(engine, write=False) as session:
            for purpose in (keys.LOG, keys.ISSUER):
                settings.keyring().signer(session, purpose)
    except keys.KeysMissing:
        return "the registry has no signing keys; run `pdr init` (migrations and keys) first"
    except keys.KeyLocked as exc:
        return f"{exc.detail} (check PDR_KEY_PASSPHRASE)"
    except SQLAlchemyError as exc:
        return f"the database cannot be used: {unavailable_reason(exc) or error_summary(exc)}"
    return None


def prepare_embedded(engine: Engine, settings: Settings) -> None:
    """The README's single command: migrate the embedded database if it needs it, and create its signing keys."""
    if not migrate.is_current(engine):
        # A child process migrates: Alembic and what it imports would otherwise stay in this worker's memory for as
        # long as it serves. This process imports the service meanwhile, on the other core.
        child = subprocess.Popen([sys.executable, "-m", "catalog.cli", "db", "upgrade"])
        import catalog.app  # noqa: F401

        if child.wait() != 0:
            return  # what the child printed says why; the check that follows refuses to start
    with session_scope(engine) as session:
        keys.init_keys(session, settings.log_origin, settings.passphrase)


def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP service; on the embedded SQLite database, prepare it first; refuse to start unprepared."""
    # Imported here: the other commands start without the server's modules.
    import uvicorn

    from catalog.web.metrics import multiprocess_dir, shared_metrics_dir

    settings = common.settings()
    configure_logging(settings.log_format, settings.log_level)
    with common.engine(settings) as engine:
        if _is_embedded_default(settings):
            prepare_embedded(engine, settings)
        problem = _serving_problem(engine, settings)
    if problem is not None:
        from rich.markup import escape

        # One unwrapped line, for the journal and for whoever greps it.
        common.stderr().print(f"[red]refusing to start:[/red] {escape(problem)}", soft_wrap=True)
        raise SystemExit(1)
    # uvicorn raises the signal again once it has shut down; by default that would end the process by the signal,
    # skipping the clean-up below and reporting a failure to whoever stopped the service.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Worker processes count their requests in files of a shared folder, which /metrics in any of them sums.
    with shared_metrics_dir() if workers > 1 or multiprocess_dir() else nullcontext():
        uvicorn.run(
            "catalog.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Applied again in each worker process, which starts with logging unconfigured.
            log_config=logging_config(settings.log_format, settings.log_level),
            access_log=False,
            timeout_worker_healthcheck=_worker_start_budget(workers),
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        )


def main(arguments: Sequence[str]) -> None:
    """Serve with the host, port and worker count `pdr serve` passed."""
    host, port, workers = arguments
    serve(host, int(port), int(workers))


if __name__ == "__main__":
    main(sys.argv[1:])
