"""The audit trail: one row for every state-changing request, written with the change it records.

Refusals of anonymous callers are the exception: they are counted per minute, action and status (`AuditTally`),
and only the first of each count writes a row.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from auth.caller import Caller
from auth.models import AuditEvent, AuditTally
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
    event = audit_event(session, caller, action, target)
    event.outcome, event.status = outcome, status
    session.add(event)
    return event


def audit_event(session: Session, caller: Caller, action: str, target: str | None) -> AuditEvent:
    """The audit row of a successful action at the session's moment, for the caller to write with the change."""
    return AuditEvent(
        actor_id=caller.account_id,
        actor_name=caller.name,
        action=action,
        target=target[:200] if target else None,
        outcome="success",
        request_id=caller.request_id,
        client_addr=caller.client_addr,
        at=now_of(session),
    )


def _outcome(status: int) -> str:
    return "denied" if status in (401, 403) else ("error" if status >= 500 else "rejected")


def record_failure(open_session: SessionFactory, caller: Caller, action: str, target: str | None, status: int) -> None:
    """Write the audit row of a refused or failed request in a transaction of its own."""
    with open_session(write=True) as session:
        record(session, caller, action, target, outcome=_outcome(status), status=status)
        session.commit()


def _count_statement(session: Session, minute: datetime, action: str, status: int) -> Any:
    table: Any = AuditTally.__table__  # type: ignore[attr-defined]
    # The database's own INSERT, for its ON CONFLICT, imported here: a process needs its own dialect's alone, and
    # PostgreSQL's takes a `pdr` command on SQLite a twentieth of its start.
    dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    statement = insert(table).values(
        minute=minute, action=action[:100], status=status, outcome=_outcome(status), count=1
    )
    return statement.on_conflict_do_update(
        index_elements=["minute", "action", "status"], set_={"count": table.c["count"] + 1}
    ).returning(table.c["count"])


def record_anonymous_refusal(
    open_session: SessionFactory, caller: Caller, action: str, target: str | None, status: int
) -> None:
    """Count a refused request of an anonymous caller in its minute's tally, in a transaction of its own.

    Only the first refusal of a minute, action and status also writes a row to the trail (with its request id and
    address, as an example): the trail grows with time and routes, never with the traffic.
    """
    with open_session(write=True) as session:
        minute = now_of(session).replace(second=0, microsecond=0)
        count = session.execute(_count_statement(session, minute, action, status)).scalar_one()
        if count == 1:
            record(session, caller, action, target, outcome=_outcome(status), status=status)
        session.commit()


def list_tallies(session: Session, *, since: datetime | None = None, action: str | None = None) -> list[AuditTally]:
    """The counts of anonymous refusals since a moment (the last day by default), newest minute first.

    At most ten rows a minute for a day come back per call; ask again with a later `since` for more.
    """
    start = since if since is not None else now_of(session) - timedelta(days=1)
    statement = select(AuditTally).where(AuditTally.minute >= start)
    if action:
        statement = statement.where(AuditTally.action == action)
    ordered = statement.order_by(col(AuditTally.minute).desc(), col(AuditTally.action), col(AuditTally.status))
    return list(session.exec(ordered.limit(24 * 60 * 10)).all())


def failure_streak(
    session: Session, action: str, since: datetime, *, target: str, client_addr: str
) -> tuple[int, datetime | None]:
    """Failures of an action on one target from one address since its last success there (and since a moment):
    how many, and when the last one was."""
    same = (AuditEvent.action == action, AuditEvent.target == target, AuditEvent.client_addr == client_addr)
    last_success = select(func.max(AuditEvent.at)).where(*same, AuditEvent.outcome == "success").scalar_subquery()
    statement = select(func.count(), func.max(AuditEvent.at)).where(
        *same,
        AuditEvent.outcome != "success",
        AuditEvent.at >= since,
        or_(last_success.is_(None), AuditEvent.at > last_success),
    )
    count, last = session.exec(statement).one()
    return int(count), last


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
