"""What every `pdr` command needs: the settings (refusing unsafe ones), a database engine, and failing clearly.

It imports neither typer nor rich: `pdr serve`'s process uses it, and would otherwise keep both (3 MB) for as long as
it serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from auth.caller import Caller
from catalog.settings import Settings, UnsafeSettings
from storage.db import error_summary, make_engine, unavailable_reason
from storage.exceptions import DomainError

if TYPE_CHECKING:
    from rich.console import Console

CLI_CALLER = Caller(name="cli")


@cache
def stderr() -> Console:
    """Rich's console on standard error, made when a command first prints to it."""
    from rich.console import Console

    return Console(stderr=True)


def settings() -> Settings:
    """The settings from the environment; unsafe ones end the command with exit code 2."""
    try:
        settings = Settings()
        settings.check()
    except UnsafeSettings as exc:
        stderr().print(f"[red]{exc}[/red]")
        raise SystemExit(2) from exc
    return settings


def fail(exc: DomainError) -> SystemExit:
    """Print a domain error and its fields; the exit (code 1) to raise."""
    stderr().print(f"[red]error:[/red] {exc.detail}")
    for problem in exc.errors:
        stderr().print(f"  {problem.field}: {problem.message}")
    return SystemExit(1)


@contextmanager
def engine(settings: Settings) -> Iterator[Engine]:
    """The database engine of one command, disposed when the command ends; a set-up or database problem exits 1."""
    try:
        made = make_engine(settings.db)
    except DomainError as exc:
        raise fail(exc) from exc
    try:
        yield made
    except SQLAlchemyError as exc:
        # Never the driver's message: it quotes the statement and its values.
        reason = unavailable_reason(exc) or error_summary(exc)
        stderr().print(
            f"[red]error:[/red] the database cannot be used: {reason}; a new one needs `pdr init` first", soft_wrap=True
        )
        raise SystemExit(1) from exc
    finally:
        made.dispose()
