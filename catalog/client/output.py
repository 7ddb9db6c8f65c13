"""How `pdrc` shows things: rich tables and progress bars on a terminal, JSON lines with `--json`."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

out = Console(highlight=False)
PIPED_WIDTH = 400
err = Console(stderr=True, highlight=False)


def json_lines(items: Iterable[BaseModel]) -> None:
    """One JSON object a line (UTF-8, Chinese as text)."""
    for item in items:
        sys.stdout.write(item.model_dump_json() + "\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A table on standard output."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        # Ids and digests are for copying: folded onto the next line, never cut short.
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped or captured, a table is as wide as its content: whoever reads it next wants whole ids.
    target = out if out.is_terminal else Console(highlight=False, width=PIPED_WIDTH)
    target.print(shown)


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"


class Bar:
    """One task of a rich progress display, as a `Meter` the transfers report to."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def advance(self, amount: int) -> None:
        """Move the bar by `amount` bytes (back, when a retry starts over)."""
        self.progress.advance(self.task, amount)


@contextmanager
def progress_bar(label: str, total: int, *, show: bool) -> Iterator[Bar | None]:
    """A byte progress bar on standard error (or None with `show` off or no terminal)."""
    if not show or not err.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        yield Bar(progress, progress.add_task(label, total=total))
