"""Grants: the right an approved request gives, until it expires, is used up or is revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col

from auth import audit
from auth.caller import Caller
from catalog.exchange.models import AccessGrant
from catalog.exchange.schemas import GrantState
from catalog.exchange.visibility import listable, may_see
from registry import events
from registry.access import is_member
from storage.db import now_of
from storage.exceptions import Conflict, Forbidden, NotFound
from storage.pagination import PageOf, paginate_by_id


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
    now = now_of(session)
    grant.state = GrantState.revoked
    grant.revoked_at = now
    grant.revoked_by = caller.account_id
    grant.revoked_reason = reason
    # The reason may name people; the public log keeps only the fact.
    events.emit(session, "access.revoke", grant.id, {"grant_id": grant.id, "request_id": grant.request_id})
    audit.record(session, caller, "grant.revoke", grant.id)
    session.commit()
    return grant


def list_grants(
    session: Session, caller: Caller, *, state: str | None, limit: int, cursor: str | None
) -> PageOf[AccessGrant]:
    """The grants the caller may see, newest first."""
    statement = listable(caller, AccessGrant, AccessGrant.account_id, AccessGrant.provider_entity_id)
    if state:
        statement = statement.where(AccessGrant.state == state)
    return paginate_by_id(session, statement, AccessGrant.id, limit=limit, cursor=cursor)


def live(now: datetime) -> Any:
    """The condition of a grant that allows a download now: active, in its period, with quota left."""
    return and_(
        col(AccessGrant.state) == GrantState.active,
        col(AccessGrant.valid_from) <= now,
        col(AccessGrant.valid_until) > now,
        or_(col(AccessGrant.download_quota).is_(None), col(AccessGrant.downloads_used) < AccessGrant.download_quota),
    )
