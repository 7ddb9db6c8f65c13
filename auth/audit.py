"""The audit trail: one row for every state-changing request, written with the change it records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from auth.caller import Caller
from auth.models import AuditEvent
from storage.db import SessionFactory, now_of


def record(
    session: Session,
    caller: Caller,
    action: str,
    target: str | None,
    *,
    outcome: str = "success",
    status: int | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction, so it commits or rolls back with the change."""
    event = AuditEvent(
        actor_id=caller.account_id,
        actor_name=caller.name,
        action=action,
        target=target[:200] if target else None,
        outcome=outcome,
        status=status,
        request_id=caller.request_id,
        client_addr=caller.client_addr,
        at=now_of(session),
    )
    session.add(event)
    return event


def record_failure(
    open_session: SessionFactory, caller: Caller, action: str, target: str | None, status: int
) -> None:
    """Write the audit row of a refused or failed request in a transaction of its own."""
    with open_session(write=True) as session:
        outcome = "denied" if status in (401, 403) else ("error" if status >= 500 else "rejected")
        record(session, caller, action, target, outcome=outcome, status=status)
        session.commit()


def count_failures(
    session: Session, action: str, since: datetime, *, target: str | None = None, client_addr: str | None = None
) -> int:
    """How many times this action failed since a moment, on one target or from one address (rate limits)."""
    statement = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.outcome != "success", AuditEvent.at >= since)
    )
    if target is not None:
        statement = statement.where(AuditEvent.target == target)
    if client_addr is not None:
        statement = statement.where(AuditEvent.client_addr == client_addr)
    return int(session.exec(statement).one())
