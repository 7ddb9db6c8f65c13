"""`pdr init`, `pdr db` and `pdr keys`: the schema's migrations and the registry's signing keys."""

from __future__ import annotations

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from catalog.operations import common
from catalog.settings import Settings
from registry import keys
from storage import migrate
from storage.db import session_scope, unavailable_reason


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
    settings = common.settings()
    with common.engine(settings) as engine:
        try:
            _upgrade(engine)
            with session_scope(engine) as session:
                _create_keys(session, settings)
        except SQLAlchemyError as exc:
            reason = unavailable_reason(exc)
            if reason is None:
                raise
            common.stderr().print(f"[red]error:[/red] the database cannot be used: {reason}", soft_wrap=True)
            raise typer.Exit(1) from exc


def db_upgrade(revision: str) -> None:
    """Apply the schema migrations up to `revision`."""
    with common.engine(common.settings()) as engine:
        _upgrade(engine, revision)


def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    with common.engine(common.settings()) as engine:
        current = migrate.current_revision(engine)
    head = migrate.head_revision()
    typer.echo(f"current: {current or '(empty)'}\nhead:    {head}")
    if current != head:
        raise typer.Exit(1)


def keys_init() -> None:
    """Create the log key and the issuer key if they do not exist."""
    settings = common.settings()
    with common.engine(settings) as engine, session_scope(engine) as session:
        _create_keys(session, settings)


def keys_rotate_issuer() -> None:
    """Retire the signing issuer key and create a new one."""
    settings = common.settings()
    with common.engine(settings) as engine, session_scope(engine) as session:
        key = keys.rotate_issuer(session, settings.passphrase)
    typer.echo(f"new issuer key {key.name}")
