"""`pdr accounts`: creating accounts and setting their sign-in passwords."""

from __future__ import annotations

import typer

# Declares the entity table, which an account's entity_id refers to: its insert cannot be ordered without it.
import registry.entity_table  # noqa: F401
from auth import service as auth_service
from auth.roles import Role
from catalog.operations import common
from storage.db import session_scope
from storage.exceptions import DomainError


def accounts_create(name: str, role: Role, entity: str | None) -> None:
    """Create an account and print its API token alone on the last line."""
    settings = common.settings()
    with common.engine(settings) as engine, session_scope(engine) as session:
        try:
            account, token = auth_service.create_account(
                session, common.CLI_CALLER, settings.auth, name=name, role=role, entity_id=entity
            )
        except DomainError as exc:
            raise common.fail(exc) from exc
    typer.echo(f"created {account.role} account {account.name} ({account.id}); its API token, shown once:")
    typer.echo(token.secret)


def accounts_set_password(name: str, password: str) -> None:
    """Set the web sign-in password of an account."""
    with common.engine(common.settings()) as engine, session_scope(engine) as session:
        try:
            auth_service.set_password(session, common.CLI_CALLER, name, password)
        except DomainError as exc:
            raise common.fail(exc) from exc
    typer.echo(f"password set for {name}")
