"""The record of downloads, as the caller may see it: pages of JSON, or every row as CSV."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from auth.caller import Caller
from catalog.exchange.csv_rows import csv_line, csv_value
from catalog.exchange.models import DownloadRecord
from catalog.exchange.visibility import listable
from storage.pagination import PageOf, paginate_by_id


def _downloads_statement(caller: Caller, dataset_id: str | None) -> SelectOfScalar[DownloadRecord]:
    statement = listable(caller, DownloadRecord, DownloadRecord.account_id, DownloadRecord.provider_entity_id)
    if dataset_id:
        statement = statement.where(DownloadRecord.dataset_id == dataset_id)
    return statement


def list_downloads(
    session: Session, caller: Caller, *, dataset_id: str | None, limit: int, cursor: str | None
) -> PageOf[DownloadRecord]:
    """Download records: one's own, those of one's entity's datasets, or all for the staff."""
    return paginate_by_id(
        session, _downloads_statement(caller, dataset_id), DownloadRecord.id, limit=limit, cursor=cursor
    )


DOWNLOAD_CSV_FIELDS = (
    "id",
    "at",
    "account_id",
    "grant_id",
    "dataset_id",
    "file_id",
    "mode",
    "range_start",
    "range_end",
    "bytes_sent",
    "complete",
    "client_addr",
)


def downloads_csv(session: Session, caller: Caller, *, dataset_id: str | None) -> Iterable[str]:
    """The caller's visible download records as CSV lines, oldest first, read in batches."""
    statement = _downloads_statement(caller, dataset_id).order_by(col(DownloadRecord.id))
    yield csv_line(DOWNLOAD_CSV_FIELDS)
    for record in session.exec(statement.execution_options(yield_per=500)):
        yield csv_line(csv_value(getattr(record, field)) for field in DOWNLOAD_CSV_FIELDS)
