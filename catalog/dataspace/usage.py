"""What an agreement has been used for: its transfers, the downloads made under its grant (in a transfer or through
the file API) with bytes and times, and the data service calls made under it; its parties and the staff see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.dataspace.models import Transfer
from catalog.dataspace.negotiations import visible_agreement, visible_negotiation
from catalog.dataspace.schemas import AgreementUsage, TransferUsage
from catalog.exchange.models import DownloadRecord, ServiceCall


def _tally(session: Session, *where: object) -> tuple[int, int, int, datetime | None, datetime | None]:
    """Downloads, complete ones, bytes sent, first and last time, of the download records matching `where`."""
    row = session.execute(
        sa_select(
            func.count(),
            func.coalesce(func.sum(case((col(DownloadRecord.complete), 1), else_=0)), 0),
            func.coalesce(func.sum(DownloadRecord.bytes_sent), 0),
            func.min(DownloadRecord.at),
            func.max(DownloadRecord.at),
        ).where(*where)  # type: ignore[arg-type]
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), row[3], row[4]


def agreement_usage(session: Session, caller: Caller, agreement_id: str) -> AgreementUsage:
    """An agreement's usage: totals under its grant, and each transfer's own."""
    row = visible_agreement(session, caller, agreement_id)
    negotiation = visible_negotiation(session, caller, row.id)
    downloads, complete, sent, first, last = (0, 0, 0, None, None)
    calls, call_bytes = 0, 0
    if negotiation.grant_id is not None:
        downloads, complete, sent, first, last = _tally(session, col(DownloadRecord.grant_id) == negotiation.grant_id)
        calls, call_bytes = _calls(session, negotiation.grant_id)
    transfers = session.exec(select(Transfer).where(Transfer.agreement_id == row.id).order_by(col(Transfer.id))).all()
    return AgreementUsage(
        agreement_id=row.id,
        status=row.status,
        downloads=downloads,
        complete_downloads=complete,
        bytes_sent=sent,
        first_at=first,
        last_at=last,
        service_calls=calls,
        service_call_bytes=call_bytes,
        transfers=[_transfer_usage(session, t) for t in transfers],
    )


def _calls(session: Session, grant_id: str) -> tuple[int, int]:
    """The data service calls made under a grant, and the bytes their answers carried."""
    row = session.execute(
        sa_select(func.count(), func.coalesce(func.sum(ServiceCall.response_bytes), 0)).where(
            col(ServiceCall.grant_id) == grant_id
        )
    ).one()
    return int(row[0]), int(row[1])


def _transfer_usage(session: Session, transfer: Transfer) -> TransferUsage:
    downloads, complete, sent, first, last = _tally(session, col(DownloadRecord.transfer_id) == transfer.id)
    return TransferUsage(
        transfer_id=transfer.id,
        state=transfer.state,
        started_at=transfer.created_at,
        downloads=downloads,
        complete_downloads=complete,
        bytes_sent=sent,
        first_at=first,
        last_at=last,
    )
