"""`pdr log audit` and `pdr registry tick`: checking the transparency log, and completing registrations."""

from __future__ import annotations

import typer

from catalog.operations import common
from registry import certificate_audit, completion, keys, log
from registry import log_audit as log_audit_checks
from registry.context import with_keyring
from storage.db import session_scope


def log_audit() -> None:
    """Recompute the log from its entries and check its checkpoints and every row citing it."""
    with common.engine(common.settings()) as engine, session_scope(engine) as session:
        log_key = keys.active_key(session, keys.LOG)
        if log_key is None:
            common.stderr().print("[red]the registry has no log key[/red]")
            raise typer.Exit(1)
        problems = log_audit_checks.audit(
            session, keys.log_vkey(log_key), log_key.name, extra_checks=[certificate_audit.audit_certificates]
        )
        first = next(iter(problems), None)
        size = log.signed_size(session)
    if first is not None:
        common.stderr().print(f"[red]log audit failed:[/red] {first}")
        raise typer.Exit(1)
    typer.echo(f"log audit passed: {size} entries, checkpoints and citing rows consistent")


def registry_tick() -> None:
    """Complete every registration whose public notice has ended with no open objection."""
    settings = common.settings()
    with common.engine(settings) as engine, session_scope(engine) as session:
        completed = completion.tick(with_keyring(session, settings.keyring()), settings.registry)
    for registration_id in completed:
        typer.echo(f"registered {registration_id}")
    typer.echo(f"{len(completed)} registration(s) completed")
