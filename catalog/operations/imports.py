"""`pdr catalog import`: datasets from CKAN lines or DCAT, idempotent by name."""

from __future__ import annotations

from pathlib import Path

import typer

from auth.caller import Caller
from auth.roles import Role
from catalog.interop.importer import import_file
from catalog.interop.org_map import read_org_map
from catalog.interop.records import RecordError
from catalog.operations import common


def catalog_import(file: Path, publisher: str | None, org_map: Path | None, progress: bool) -> None:
    """Import datasets (idempotent by name); bad records are listed and skipped, and make the exit code 1."""
    settings = common.settings()
    with common.engine(settings) as engine:
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
            common.stderr().print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    for where, message in report.errors[:200]:
        common.stderr().print(f"[yellow]{where}[/yellow]: {message}")
    if len(report.errors) > 200:
        common.stderr().print(f"... and {len(report.errors) - 200} more")
    rate = (report.created + report.updated) / report.seconds if report.seconds else 0.0
    typer.echo(
        f"created {report.created}, updated {report.updated}, failed {report.failed} "
        f"in {report.seconds:.1f} s ({rate:.0f} datasets/s)"
    )
    for line in report.mapping_lines():
        typer.echo(line)
    if report.failed:
        raise typer.Exit(1)
