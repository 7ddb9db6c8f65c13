"""Grants: the right an approved request gives, until it expires, is used up or is revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col

from auth import audit
from auth.caller import Caller
from catalog.exchange.models import AccessGrant
from catalog.exchange.schemas import GrantPublic, GrantState, GrantStatus
from catalog.exchange.visibility import listable, may_see
from registry import events
from registry.access import is_member
from storage.db import now_of
from storage.exceptions import Conflict, Forbidden, NotFound
from storage.pagination import PageOf, paginate_by_id


def status_of(grant: AccessGrant, now: datetime) -> GrantStatus:
    """What the grant allows at `now`: revoked, pending until it starts, expired, used up, or active."""
    if grant.state == GrantState.revoked:
        return GrantStatus.revoked
    if now < grant.valid_from:
        return GrantStatus.pending
    if now >= grant.valid_until:
        return GrantStatus.expired
    if grant.download_quota is not None and grant.downloads_used >= grant.download_quota:
        return GrantStatus.used_up
    return GrantStatus.active


def present(session: Session, grant: AccessGrant) -> GrantPublic:
    """The grant as the API shows it, its status read at the session's time."""
    shown = GrantPublic.model_validate(grant, from_attributes=True)
    return shown.model_copy(update={"state": status_of(grant, now_of(session))})


def shown_grant(session: Session, caller: Caller, grant_id: str) -> GrantPublic:
    """One grant the caller may see, as the API shows it."""
    return present(session, visible_grant(session, caller, grant_id))


def visible_grant(session: Session, caller: Caller, grant_id: str) -> AccessGrant:
    """A grant its holder, its providing entity or the staff may see; anyone else gets 404."""
    grant = session.get(AccessGrant, grant_id)
    if grant is None or not may_see(caller, grant.account_id, grant.provider_entity_id):
        raise NotFound("no such grant")
    return grant


def revoke_grant(session: Session, caller: Caller, grant_id: str, reason: str) -> AccessGrant:
    """The providing entity or an operator revokes a grant; downloads stop at once."""
    grant = visible_grant(session, caller, grant_id)
    if not (caller.is_staff or is_member(caller, grant.provider_entity_id)):
        raise Forbidden("only the providing entity or an operator revokes a grant")
    if grant.state == GrantState.revoked:
        raise Conflict("the grant is revoked already")
    mark_revoked(session, grant, reason, caller.account_id)
    audit.record(session, caller, "grant.revoke", grant.id)
    session.commit()
    return grant


def mark_revoked(session: Session, grant: AccessGrant, reason: str, actor: str | None) -> None:
    """Revoke a grant in the caller's transaction (not committed): downloads stop at once, and the public log keeps
    the fact, not the reason, which may name people."""
    grant.state = GrantState.revoked
    grant.revoked_at = now_of(session)
    grant.revoked_by = actor
    grant.revoked_reason = reason
    session.add(grant)
    events.emit(session, "access.revoke", grant.id, {"grant_id": grant.id, "request_id": grant.request_id})


def list_grants(
    session: Session, caller: Caller, *, state: GrantStatus | None, limit: int, cursor: str | None
) -> PageOf[GrantPublic]:
    """The grants the caller may see, newest first, optionally those of one status."""
    statement = listable(caller, AccessGrant, AccessGrant.account_id, AccessGrant.provider_entity_id)
    if state:
        statement = statement.where(in_status(state, now_of(session)))
    page = paginate_by_id(session, statement, AccessGrant.id, limit=limit, cursor=cursor)
    return PageOf([present(session, grant) for grant in page.items], page.count, page.next_cursor)


def in_status(status: GrantStatus, now: datetime) -> Any:
    """The condition of the grants that have `status` at `now` (the SQL twin of `status_of`)."""
    kept = col(AccessGrant.state) != GrantState.revoked
    started = and_(kept, col(AccessGrant.valid_from) <= now)
    used_up = and_(
        col(AccessGrant.download_quota).is_not(None), col(AccessGrant.downloads_used) >= AccessGrant.download_quota
    )
    conditions = {
        GrantStatus.revoked: col(AccessGrant.state) == GrantState.revoked,
        GrantStatus.pending: and_(kept, col(AccessGrant.valid_from) > now),
        GrantStatus.expired: and_(started, col(AccessGrant.valid_until) <= now),
        GrantStatus.used_up: and_(started, col(AccessGrant.valid_until) > now, used_up),
        GrantStatus.active: live(now),
    }
    return conditions[status]


def live(now: datetime) -> Any:
    """The condition of a grant that allows a download now: active, in its period, with quota left."""
    return and_(
        col(AccessGrant.state) == GrantState.active,
        col(AccessGrant.valid_from) <= now,
        col(AccessGrant.valid_until) > now,
        or_(col(AccessGrant.download_quota).is_(None), col(AccessGrant.downloads_used) < AccessGrant.download_quota),
    )
