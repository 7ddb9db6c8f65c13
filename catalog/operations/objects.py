"""`pdr storage`: collecting the object store's garbage and verifying every object against its hash."""

from __future__ import annotations

from datetime import timedelta

import typer

from catalog.files import upkeep
from catalog.operations import common
from storage.db import session_scope
from storage.exceptions import DomainError


def storage_gc() -> None:
    """Remove stale temporary uploads and objects no file refers to."""
    settings = common.settings()
    with common.engine(settings) as engine, session_scope(engine, write=False) as session:
        try:
            report = upkeep.collect_garbage(
                session,
                settings.objects.open_store(),
                temporary_age=timedelta(seconds=settings.objects.temporary_max_age_seconds),
                grace=timedelta(seconds=settings.objects.gc_grace_seconds),
            )
        except DomainError as exc:
            raise common.fail(exc) from exc
    typer.echo(
        f"removed {report.temporary} stale temporary upload(s) and {report.unreferenced} unreferenced object(s); "
        f"kept {report.kept_recent} recent unreferenced object(s)"
    )


def storage_verify() -> None:
    """Re-hash every object and check that every file has its object; exits 1 on any problem."""
    settings = common.settings()
    problems = 0
    with common.engine(settings) as engine, session_scope(engine, write=False) as session:
        try:
            for problem, sha256 in upkeep.verify_store(session, settings.objects.open_store()):
                problems += 1
                typer.echo(f"{problem}: {sha256}")
        except DomainError as exc:
            raise common.fail(exc) from exc
    if problems:
        common.stderr().print(f"[red]{problems} problem(s) found[/red]")
        raise typer.Exit(1)
    typer.echo("every object matches its hash and every file has its object")
