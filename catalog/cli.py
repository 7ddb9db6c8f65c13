"""The `pdr` command line: serve, migrate, and administer accounts.

Only the arguments and the help live here. Each command imports its module of `catalog.operations`, which does the
work, when it runs: the service's modules take seconds to import, `pdr --help` or a mistyped option needs none of
them, and `pdr accounts create` needs no search, import or object-store code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from auth.roles import Role

# The module `pdr serve` runs (catalog/operations/serving.py), named rather than imported: importing it would load
# the database layer only to replace the process.
SERVER_MODULE = "catalog.operations.serving"
app = typer.Typer(help="pdr: the public data registry.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts and their tokens.", no_args_is_help=True)
registry_app = typer.Typer(help="The registration procedure.", no_args_is_help=True)
keys_app = typer.Typer(help="The registry's signing keys.", no_args_is_help=True)
log_app = typer.Typer(help="The transparency log.", no_args_is_help=True)
storage_app = typer.Typer(help="The object store behind payload files.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(registry_app, name="registry")
catalog_app = typer.Typer(help="The catalog of datasets.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL deployments)."),
) -> None:
    """Run the HTTP service; it prepares the embedded SQLite database itself, and refuses to start unprepared."""
    # A new program in this process (the same pid, for a supervisor) serves: typer and rich stay out of every
    # worker's memory. It finds its modules as this process did: the working directory goes on its module path
    # (which `-m` does unless -P) only if it was on this one's (`python -m catalog.cli`), never for the `pdr` script.
    here = sys.path[0] in ("", os.getcwd()) if sys.path else False
    program = [sys.executable, *([] if here else ["-P"]), "-m", SERVER_MODULE, host, str(port), str(workers)]
    sys.stdout.flush()
    os.execv(sys.executable, program)  # noqa: S606


@app.command("init")
def init_command() -> None:
    """Prepare the database for `pdr serve`: apply the migrations and create the signing keys; safe to repeat."""
    from catalog.operations import database

    database.init()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the schema migrations (`pdr init` does this and creates the signing keys)."""
    from catalog.operations import database

    database.db_upgrade(revision)


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    from catalog.operations import database

    database.db_current()


@accounts_app.command("create")
def accounts_create(
    name: str = typer.Argument(..., help="Account name."),
    role: Role = typer.Option(..., "--role", help="admin, operator, provider or consumer."),
    entity: str | None = typer.Option(None, "--entity", help="Entity id (providers)."),
) -> None:
    """Create an account; its API token is printed alone on the last line."""
    from catalog.operations import accounts

    accounts.accounts_create(name, role, entity)


@accounts_app.command("set-password")
def accounts_set_password(name: str = typer.Argument(..., help="Account name.")) -> None:
    """Set the web sign-in password of an account (asked for, never an argument)."""
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    from catalog.operations import accounts

    accounts.accounts_set_password(name, password)


@keys_app.command("init")
def keys_init() -> None:
    """Create the log key and the issuer key if they do not exist (encrypted with PDR_KEY_PASSPHRASE)."""
    from catalog.operations import database

    database.keys_init()


@keys_app.command("rotate-issuer")
def keys_rotate_issuer() -> None:
    """Retire the signing issuer key and create a new one; earlier credentials keep verifying."""
    from catalog.operations import database

    database.keys_rotate_issuer()


@log_app.command("audit")
def log_audit() -> None:
    """Recompute the log from its entries and check its checkpoints and every row citing it."""
    from catalog.operations import registry

    registry.log_audit()


@storage_app.command("gc")
def storage_gc() -> None:
    """Remove stale temporary uploads and objects no file refers to; safe while the service runs."""
    from catalog.operations import objects

    objects.storage_gc()


@storage_app.command("verify")
def storage_verify() -> None:
    """Re-hash every object and check that every file has its object; exits 1 on any problem."""
    from catalog.operations import objects

    objects.storage_verify()


@registry_app.command("tick")
def registry_tick() -> None:
    """Complete every registration whose public notice has ended with no open objection."""
    from catalog.operations import registry

    registry.registry_tick()


VERIFY_EXIT_CODES = (
    "Exit codes:\n\n"
    "0  verified, revocation included (from the fetched status list, or from --status-list FILE).\n\n"
    "1  a check failed: the certificate is revoked (an agreement terminated or retired), expired or not yet valid, "
    "or the bundle, its proof or its log entry is not genuine.\n\n"
    "2  a file given cannot be read as a bundle, trust file or status list, or --at is not an RFC 3339 time.\n\n"
    "3  --offline: every other check passed, but revocation was NOT checked, so the certificate may be revoked.\n\n"
    "4  the status list could not be fetched (network, HTTP error, not JSON), so revocation is unknown: retry, "
    "or give --status-list FILE."
)


@app.command(epilog=VERIFY_EXIT_CODES)
def verify(
    bundle: Path = typer.Argument(
        ...,
        help="The certificate, agreement or participant credential bundle (JSON from GET "
        "/api/v1/certificates/NUMBER, /api/v1/agreements/ID or /api/v1/entities/ID/participant-credential).",
    ),
    trust: Path = typer.Option(..., "--trust", help="The trust file (JSON from GET /.well-known/pdr-trust.json)."),
    status_list: Path | None = typer.Option(
        None, "--status-list", help="Check revocation against this status list credential file, not the network."
    ),
    online: bool = typer.Option(
        True,
        "--online/--offline",
        help="Fetch the status list the credential names (the default), or leave revocation unchecked (exit 3).",
    ),
    at: str | None = typer.Option(None, "--at", help="Judge validity at this RFC 3339 time instead of now."),
) -> None:
    """Verify a certificate, agreement or participant credential bundle: proof, checkpoint, log inclusion, validity,
    and revocation."""
    from registry.verify_command import run_cli

    raise typer.Exit(run_cli(bundle, trust, status_list, online, at, echo=typer.echo))


@catalog_app.command("import")
def catalog_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CKAN .jsonl, or DCAT .ttl/.jsonld/.rdf"),
    publisher: str | None = typer.Option(None, "--publisher", help="Entity id publishing every record."),
    org_map: Path | None = typer.Option(
        None,
        "--org-map",
        exists=True,
        dir_okay=False,
        help="CKAN organisation name or title to entity USCC or id: a JSON object, or CSV of two columns.",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Import datasets (idempotent by name); bad records are listed and skipped."""
    from catalog.operations import imports

    imports.catalog_import(file, publisher, org_map, progress)


def main() -> None:
    """Entry point of the `pdr` console script."""
    app(args=sys.argv[1:])


if __name__ == "__main__":
    main()
