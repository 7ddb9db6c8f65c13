"""The work behind each `pdr` command: settings, the database, and the use cases, apart from the command line's
arguments and help (`catalog/cli.py`), so that `pdr --help` imports none of it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from auth import service as auth_service
from auth.caller import Caller
from auth.roles import Role
from catalog.files import upkeep
from catalog.interop.importer import import_file
from catalog.interop.org_map import read_org_map
from catalog.interop.records import RecordError
from catalog.settings import Settings, UnsafeSettings
from catalog.web.logs import configure_logging, logging_config
from registry import certificate_audit, completion, keys, log
from registry import log_audit as log_audit_checks
from registry.context import with_keyring
from storage import migrate
from storage.db import error_summary, make_engine, session_scope, unavailable_reason
from storage.exceptions import DomainError

err = Console(stderr=True)
CLI_CALLER = Caller(name="cli")

# How long a worker process may take to answer its supervisor's first health check: a new process imports the whole
# service, which on a busy machine takes longer than uvicorn's default (5 s), and a worker not answering is replaced.
# Workers start together on the same cores, so each one more makes every one of them slower to start.
WORKER_START_SECONDS = 30
WORKER_START_SECONDS_EACH = 10


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check()
    except UnsafeSettings as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return settings


def _fail(exc: DomainError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.detail}")
    for problem in exc.errors:
        err.print(f"  {problem.field}: {problem.message}")
    return typer.Exit(1)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """The database engine of one command, disposed when the command ends; a set-up problem exits 1."""
    try:
        engine = make_engine(settings.db)
    except DomainError as exc:
        raise _fail(exc) from exc
    try:
        yield engine
    finally:
        engine.dispose()


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


def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP service; on the embedded SQLite database, prepare it first; refuse to start unprepared."""
    # Imported here: the other commands start without the server's modules.
    import uvicorn

    from catalog.web.metrics import multiprocess_dir, shared_metrics_dir

    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)
    with _engine(settings) as engine:
        if _is_embedded_default(settings):
            # One process on one machine: the README's single command prepares its own database.
            migrate.upgrade(engine)
            with session_scope(engine) as session:
                keys.init_keys(session, settings.log_origin, settings.passphrase)
        problem = _serving_problem(engine, settings)
    if problem is not None:
        # One unwrapped line, for the journal and for whoever greps it.
        err.print(f"[red]refusing to start:[/red] {escape(problem)}", soft_wrap=True)
        raise typer.Exit(1)
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


def _upgrade(engine: Engine, revision: str = "head") -> None:
    migrate.upgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


def _create_keys(session: Session, settings: Settings) -> None:
    """Create the signing keys that do not exist yet, and print what an operator publishes."""
    created = keys.init_keys(session, settings.log_origin, settings.passphrase)
    for key in created:
        typer.echo(f"created the {key.purpose} key {key.name}" + ("" if key.encrypted else " (UNENCRYPTED)"))
    if not created:
        typer.echo("the keys exist already")
    log_key = keys.active_key(session, keys.LOG)
    issuer_key = keys.active_key(session, keys.ISSUER)
    assert log_key is not None and issuer_key is not None
    typer.echo(f"log verifier key: {keys.log_vkey(log_key)}")
    typer.echo(f"issuer: {issuer_key.name}")


def init() -> None:
    """Apply the migrations and create the signing keys; safe to repeat."""
    settings = _settings()
    with _engine(settings) as engine:
        try:
            _upgrade(engine)
            with session_scope(engine) as session:
                _create_keys(session, settings)
        except SQLAlchemyError as exc:
            reason = unavailable_reason(exc)
            if reason is None:
                raise
            err.print(f"[red]error:[/red] the database cannot be used: {reason}", soft_wrap=True)
            raise typer.Exit(1) from exc


def db_upgrade(revision: str) -> None:
    """Apply the schema migrations up to `revision`."""
    with _engine(_settings()) as engine:
        _upgrade(engine, revision)


def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    with _engine(_settings()) as engine:
        current = migrate.current_revision(engine)
    head = migrate.head_revision()
    typer.echo(f"current: {current or '(empty)'}\nhead:    {head}")
    if current != head:
        raise typer.Exit(1)


def accounts_create(name: str, role: Role, entity: str | None) -> None:
    """Create an account and print its API token alone on the last line."""
    settings = _settings()
    with _engine(settings) as engine, session_scope(engine) as session:
        try:
            account, token = auth_service.create_account(
                session, CLI_CALLER, settings.auth, name=name, role=role, entity_id=entity
            )
        except DomainError as exc:
            raise _fail(exc) from exc
    typer.echo(f"created {account.role} account {account.name} ({account.id}); its API token, shown once:")
    typer.echo(token.secret)


def accounts_set_password(name: str, password: str) -> None:
    """Set the web sign-in password of an account."""
    with _engine(_settings()) as engine, session_scope(engine) as session:
        try:
            auth_service.set_password(session, CLI_CALLER, name, password)
        except DomainError as exc:
            raise _fail(exc) from exc
    typer.echo(f"password set for {name}")


def keys_init() -> None:
    """Create the log key and the issuer key if they do not exist."""
    settings = _settings()
    with _engine(settings) as engine, session_scope(engine) as session:
        _create_keys(session, settings)


def keys_rotate_issuer() -> None:
    """Retire the signing issuer key and create a new one."""
    settings = _settings()
    with _engine(settings) as engine, session_scope(engine) as session:
        key = keys.rotate_issuer(session, settings.passphrase)
    typer.echo(f"new issuer key {key.name}")


def log_audit() -> None:
    """Recompute the log from its entries and check its checkpoints and every row citing it."""
    with _engine(_settings()) as engine, session_scope(engine) as session:
        log_key = keys.active_key(session, keys.LOG)
        if log_key is None:
            err.print("[red]the registry has no log key[/red]")
            raise typer.Exit(1)
        problems = log_audit_checks.audit(
            session, keys.log_vkey(log_key), log_key.name, extra_checks=[certificate_audit.audit_certificates]
        )
        first = next(iter(problems), None)
        size = log.signed_size(session)
    if first is not None:
        err.print(f"[red]log audit failed:[/red] {first}")
        raise typer.Exit(1)
    typer.echo(f"log audit passed: {size} entries, checkpoints and citing rows consistent")


def storage_gc() -> None:
    """Remove stale temporary uploads and objects no file refers to."""
    settings = _settings()
    with _engine(settings) as engine, session_scope(engine, write=False) as session:
        try:
            report = upkeep.collect_garbage(
                session,
                settings.objects.open_store(),
                temporary_age=timedelta(seconds=settings.objects.temporary_max_age_seconds),
                grace=timedelta(seconds=settings.objects.gc_grace_seconds),
            )
        except DomainError as exc:
            raise _fail(exc) from exc
    typer.echo(
        f"removed {report.temporary} stale temporary upload(s) and {report.unreferenced} unreferenced object(s); "
        f"kept {report.kept_recent} recent unreferenced object(s)"
    )


def storage_verify() -> None:
    """Re-hash every object and check that every file has its object; exits 1 on any problem."""
    settings = _settings()
    problems = 0
    with _engine(settings) as engine, session_scope(engine, write=False) as session:
        try:
            for problem, sha256 in upkeep.verify_store(session, settings.objects.open_store()):
                problems += 1
                typer.echo(f"{problem}: {sha256}")
        except DomainError as exc:
            raise _fail(exc) from exc
    if problems:
        err.print(f"[red]{problems} problem(s) found[/red]")
        raise typer.Exit(1)
    typer.echo("every object matches its hash and every file has its object")


def registry_tick() -> None:
    """Complete every registration whose public notice has ended with no open objection."""
    settings = _settings()
    with _engine(settings) as engine, session_scope(engine) as session:
        completed = completion.tick(with_keyring(session, settings.keyring()), settings.registry)
    for registration_id in completed:
        typer.echo(f"registered {registration_id}")
    typer.echo(f"{len(completed)} registration(s) completed")


def catalog_import(file: Path, publisher: str | None, org_map: Path | None, progress: bool) -> None:
    """Import datasets (idempotent by name); bad records are listed and skipped, and make the exit code 1."""
    settings = _settings()
    with _engine(settings) as engine:
        try:
            report = import_file(
                engine,
                file,
                caller=Caller(name="cli", role=Role.admin),
                publisher=publisher,
                org_map=read_org_map(org_map) if org_map else None,
                batch_size=settings.catalog.import_batch_size,
                progress=progress,
            )
        except RecordError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    for where, message in report.errors[:200]:
        err.print(f"[yellow]{where}[/yellow]: {message}")
    if len(report.errors) > 200:
        err.print(f"... and {len(report.errors) - 200} more")
    rate = (report.created + report.updated) / report.seconds if report.seconds else 0.0
    typer.echo(
        f"created {report.created}, updated {report.updated}, failed {report.failed} "
        f"in {report.seconds:.1f} s ({rate:.0f} datasets/s)"
    )
    for line in report.mapping_lines():
        typer.echo(line)
    if report.failed:
        raise typer.Exit(1)
