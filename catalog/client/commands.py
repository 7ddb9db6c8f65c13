"""`pdrc`: pdr for consumers and providers on the command line, over the SDK.

Exit codes: 0 done; 1 any other failure; 2 wrong usage; 3 not signed in or not allowed (401/403);
4 not found; 5 conflict, or the file changed on the server during a resume; 6 a download's SHA-256 did not match
(the partial file is removed); 7 the service cannot be reached or asks to wait (429/503), or a status list could
not be fetched; 8 the local disk is full (the partial file is kept); 9 a certificate failed verification.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar

import typer

from catalog.client import profiles
from catalog.client.errors import ClientError
from catalog.client.output import err, json_lines, out, table
from catalog.client.sdk import PdrClient

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="pdr for consumers and providers: search, download, upload, apply for access, verify certificates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a ClientError into its message on standard error and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ClientError as error:
            err.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
            raise typer.Exit(error.exit_code) from None

    return run


@app.callback()
def options(
    context: typer.Context,
    profile: str | None = typer.Option(
        None, "--profile", "-p", help="Profile name (default: PDR_CLIENT_PROFILE or 'default')."
    ),
    url: str | None = typer.Option(None, "--url", help="Server URL (default: PDR_CLIENT_URL or the profile's)."),
    token: str | None = typer.Option(None, "--token", help="API token (default: PDR_CLIENT_TOKEN or the profile's)."),
) -> None:
    """Choose the server and the account for the command."""
    context.obj = {"profile": profile, "url": url, "token": token}


def profile_of(context: typer.Context) -> profiles.Profile:
    """The profile the global options and the environment pick."""
    chosen: dict[str, Any] = context.obj or {}
    return profiles.resolve(chosen.get("profile"), chosen.get("url"), chosen.get("token"))


def client_of(context: typer.Context) -> PdrClient:
    """A client for the chosen server, with the chosen token."""
    profile = profile_of(context)
    return PdrClient(profile.url, profile.token)


# ---------------------------------------------------------------- account


@app.command()
@guarded
def login(
    context: typer.Context,
    name: str = typer.Option(..., "--name", prompt=True, help="Account name."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, help="Password (prompted)."),
    days: int = typer.Option(90, "--days", min=1, max=3650, help="Days the stored API token lasts."),
) -> None:
    """Sign in with a password and store a new API token of the account in the profile (never printed)."""
    chosen = profile_of_for_login(context)
    with PdrClient(chosen.url) as anonymous:
        session = anonymous.login(name, password)
    with PdrClient(chosen.url, session.token) as signed_in:
        created = signed_in.create_token(f"pdrc on {socket.gethostname()}"[:100], expires_in_days=days)
        account = signed_in.me()
    path = profiles.remember(profiles.Profile(chosen.name, chosen.url, created.token, created.id))
    out.print(f"signed in as {account.name} ({account.role}) at {chosen.url}; profile {chosen.name!r} in {path}")


def profile_of_for_login(context: typer.Context) -> profiles.Profile:
    """The profile to sign in to: like any command's, but without a token yet."""
    chosen: dict[str, Any] = context.obj or {}
    return profiles.resolve(chosen.get("profile"), chosen.get("url"), "-")


@app.command()
@guarded
def logout(context: typer.Context) -> None:
    """Revoke the profile's stored token on the server and forget it."""
    profile = profile_of(context)
    if profile.token and profile.token_id:
        with PdrClient(profile.url, profile.token) as client:
            client.request("DELETE", f"/api/v1/tokens/{profile.token_id}")
    profiles.forget_token(profile.name)
    out.print(f"signed out of {profile.url} (profile {profile.name!r})")


@app.command()
@guarded
def whoami(context: typer.Context) -> None:
    """The account the token belongs to, and the server."""
    with client_of(context) as client:
        account = client.me()
        out.print(f"{account.name} ({account.role}) at {client.base_url}")


# ---------------------------------------------------------------- catalog


@app.command()
@guarded
def search(
    context: typer.Context,
    query: str | None = typer.Argument(None, help="Words to search for, in Chinese, English or both."),
    theme: list[str] = typer.Option([], "--theme", help="Only these themes (repeat the option)."),
    publisher: list[str] = typer.Option([], "--publisher", help="Only these publishers' entity ids."),
    format_: list[str] = typer.Option([], "--format", help="Only datasets in these formats (CSV, XLSX, ...)."),
    access: list[str] = typer.Option([], "--access", help="unconditional, conditional or not_open."),
    sort: str | None = typer.Option(None, "--sort", help="relevance, newest or title."),
    facets: list[str] = typer.Option([], "--facet", help="Show counts by these fields (theme, format, ...)."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="Results per page."),
    every: bool = typer.Option(False, "--all", help="Every result, page after page."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """Search the catalog."""
    filters: dict[str, Any] = {
        "theme": theme,
        "publisher": publisher,
        "format": format_,
        "access": access,
        "sort": sort,
    }
    with client_of(context) as client:
        if every:
            found = list(client.iter_search(query, limit=max(limit, 100), **filters))
            total, facet_counts = len(found), {}
        else:
            page = client.search(query, limit=limit, facets=facets or None, **filters)
            found, total, facet_counts = page.items, page.count, page.facets
    if as_json:
        json_lines(found)
        return
    rows = [(d.name, d.title, d.publisher.name, ", ".join(d.formats), d.access) for d in found]
    table(f"{total} datasets", ("name", "title", "publisher", "formats", "access"), rows)
    for field, values in facet_counts.items():
        table(field, ("value", "count"), [(v.label or v.value, v.count) for v in values])


@app.command()
@guarded
def show(
    context: typer.Context,
    dataset: str = typer.Argument(..., help="Dataset id or name."),
    as_json: bool = typer.Option(False, "--json", help="The API's JSON."),
) -> None:
    """One dataset: its metadata, registry record and files."""
    with client_of(context) as client:
        shown = client.dataset(dataset)
        files = client.files(shown.id)
    if as_json:
        json_lines([shown])
        return
    out.print(f"[bold]{shown.title}[/bold] ({shown.name}, {shown.id})", markup=True)
    out.print(
        f"publisher: {shown.publisher.name}; access: {shown.access}; state: {shown.state}, version {shown.version}"
    )
    if shown.registry is not None:
        certificates = ", ".join(f"{c.number} ({c.status})" for c in shown.registry.certificates) or "none"
        out.print(f"registry: {shown.registry.resource_code}; certificates: {certificates}")
    if shown.description:
        out.print(shown.description)
    rows = [(f.id, f.version, f.name, f.size, f.sha256) for f in files]
    table("files", ("id", "version", "name", "bytes", "sha256"), rows)


@app.command()
@guarded
def publish(context: typer.Context, dataset: str = typer.Argument(..., help="Dataset id or name.")) -> None:
    """Publish the dataset's draft version."""
    with client_of(context) as client:
        shown = client.publish(dataset)
    out.print(f"published {shown.name} version {shown.version}")


# ---------------------------------------------------------------- exchange


@app.command("request-access")
@guarded
def request_access(
    context: typer.Context,
    dataset: str = typer.Argument(..., help="The conditional dataset's id or name."),
    purpose: str = typer.Option(..., "--purpose", help="What the data is for."),
    scenario: str = typer.Option(..., "--scenario", help="The application scenario."),
    use_category: str = typer.Option(..., "--use", help="public_welfare, industry_development or commercial."),
    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
    until: str = typer.Option(..., "--until", help="Last day (YYYY-MM-DD)."),
) -> None:
    """Apply for access to conditional data."""
    try:
        period = date.fromisoformat(start), date.fromisoformat(until)
    except ValueError as error:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {error}") from None
    with client_of(context) as client:
        made = client.request_access(
            dataset_id=client.dataset(dataset).id,
            purpose=purpose,
            scenario=scenario,
            use_category=use_category,
            requested_from=period[0],
            requested_until=period[1],
        )
    out.print(f"access request {made.id}: {made.state}")


@app.command()
@guarded
def grants(
    context: typer.Context,
    state: str | None = typer.Option(None, "--state", help="pending, active, expired, used_up or revoked."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """One's grants: what they cover, until when, and the downloads left."""
    with client_of(context) as client:
        found = list(client.grants(state))
    if as_json:
        json_lines(found)
        return
    rows = [
        (g.id, g.dataset_id or g.product_id, g.state, g.valid_until.date(), _left(g.download_quota, g.downloads_used))
        for g in found
    ]
    table(f"{len(found)} grants", ("id", "dataset or product", "state", "until", "downloads left"), rows)


def _left(quota: int | None, used: int) -> str:
    return "unlimited" if quota is None else str(max(quota - used, 0))


@app.command()
@guarded
def downloads(
    context: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table.")
) -> None:
    """One's downloads (or those of one's datasets), newest first."""
    with client_of(context) as client:
        found = list(client.downloads())
    if as_json:
        json_lines(found)
        return
    rows = [(d.at, d.dataset_id, d.file_id, d.bytes_sent, "yes" if d.complete else "no") for d in found]
    table(f"{len(found)} downloads", ("at", "dataset", "file", "bytes", "complete"), rows)
