"""`pdrc get`, `pdrc put` and `pdrc verify`: the commands that move bytes or check them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from catalog.client.commands import client_of, guarded
from catalog.client.downloads import connections_for, download
from catalog.client.errors import ClientError, NotFound, VerificationFailed
from catalog.client.output import human_size, out, progress_bar
from catalog.client.sdk import PdrClient
from catalog.client.uploads import sha256_of, upload
from catalog.files.schemas import FilePublic


def _chosen_files(client: PdrClient, dataset_id: str, wanted: str | None) -> list[FilePublic]:
    """The file named by id or name (newest version first), or every file of the newest version."""
    files = client.files(dataset_id)
    if wanted is not None:
        match = next((f for f in files if wanted in (f.id, f.name)), None)
        if match is None:
            raise NotFound(404, {"title": "Not found", "detail": f"the dataset has no file {wanted!r}"})
        return [match]
    newest = max((f.version for f in files), default=None)
    chosen = [f for f in files if f.version == newest]
    if not chosen:
        raise ClientError("the dataset has no file you may download")
    return chosen


@guarded
def get(
    context: typer.Context,
    dataset: str = typer.Argument(..., help="Dataset id or name."),
    file: str | None = typer.Argument(None, help="File id or name (default: every file of the newest version)."),
    directory: Path = typer.Option(Path("."), "--output", "-o", file_okay=False, help="Folder to save into."),
    connections: int = typer.Option(4, "--connections", min=1, max=16, help="Parallel ranges for large open files."),
    restart: bool = typer.Option(False, "--restart", help="Discard a partial copy and start again."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Download: resumes a partial copy, checks the SHA-256, and only then gives the file its name."""
    directory.mkdir(parents=True, exist_ok=True)
    with client_of(context) as client:
        shown = client.dataset(dataset)
        lanes = connections_for(shown.access, connections)
        for chosen in _chosen_files(client, shown.id, file):
            with progress_bar(chosen.name, chosen.size, show=progress) as bar:
                saved = download(client, chosen, directory, connections=lanes, restart=restart, meter=bar)
            out.print(f"{saved} ({human_size(chosen.size)}, sha256 {chosen.sha256} verified)")


@guarded
def put(
    context: typer.Context,
    dataset: str = typer.Argument(..., help="Dataset id or name (its draft version takes the file)."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The file to upload."),
    name: str | None = typer.Option(None, "--name", help="The file's name in the dataset (default: its own)."),
    media_type: str = typer.Option("application/octet-stream", "--media-type", help="Default: from its extension."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Upload: the SHA-256 first, then the bytes; a broken connection is retried and leaves nothing behind."""
    size = path.stat().st_size
    with progress_bar(f"sha256 {path.name}", size, show=progress) as bar:
        digest = sha256_of(path, bar)
    with client_of(context) as client:
        dataset_id = client.dataset(dataset).id
        with progress_bar(f"upload {path.name}", size, show=progress) as bar:
            stored = upload(client, dataset_id, path, name=name, media_type=media_type, sha256=digest, meter=bar)
    out.print(f"{stored.name}: file {stored.id} in version {stored.version}, sha256 {stored.sha256}")


@guarded
def verify(
    context: typer.Context,
    number: str = typer.Argument(..., help="The certificate number."),
    at: str | None = typer.Option(None, "--at", help="Judge validity at this RFC 3339 time instead of now."),
) -> None:
    """Verify a certificate: fetch its bundle and the trust document, check them offline, and check revocation
    against the status list the credential names. Exit 0 verified, 9 failed, 7 status list unreachable."""
    # Imported here: the verifier's cryptography and log code would slow every other command's start.
    from registry.verifier import (
        EXIT_FAILED,
        EXIT_STATUS_LIST_UNAVAILABLE,
        BadInput,
        Trust,
        fetch_status_list,
        parse_at,
        verify_bundle,
    )

    with client_of(context) as client:
        bundle: dict[str, Any] = client.request("GET", f"/api/v1/certificates/{number}").json()
        try:
            trust = Trust.from_document(client.trust())
        except BadInput as error:
            raise ClientError(f"the service's trust document is unusable: {error}") from error
    try:
        # The command line reads the wall clock; the verifier takes the time it is given.
        when = parse_at(at, datetime.now(UTC))
    except BadInput as error:
        raise typer.BadParameter(str(error), param_hint="--at") from None
    report = verify_bundle(bundle, trust, at=when, fetch=fetch_status_list)
    out.print(f"certificate {report.number or number}")
    for check in report.checks:
        mark = {True: "[green]passed[/green] ", False: "[red]FAILED[/red] ", None: "not run"}[check.ok]
        out.print(f"  {mark} {check.name}: {check.detail}", markup=True, highlight=False)
    if report.exit_code == EXIT_FAILED:
        raise VerificationFailed("the certificate did not pass every check")
    if report.exit_code == EXIT_STATUS_LIST_UNAVAILABLE:
        raise typer.Exit(7)
    out.print("verified: signed by the registry, in its log, valid now and not revoked")


TRANSFER_COMMANDS: dict[str, Callable[..., None]] = {"get": get, "put": put, "verify": verify}
