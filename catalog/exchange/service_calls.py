"""Data services: a listed product delivered as an API, which its consumers call through pdr.

pdr forwards each call to the provider's service URL, for a consumer with a live grant for the product; a call uses
one unit of the grant's quota once the provider has answered (a call that never reached it uses nothing), and every
call is on record. The providing entity's own members call without a grant. The path a consumer asks for stays under
the service URL: no dot segments, no backslashes, no second scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote

from sqlalchemy import and_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from catalog.exchange.grants import live
from catalog.exchange.listings import visible_listing
from catalog.exchange.models import AccessGrant, ServiceCall
from catalog.exchange.schemas import DeliveryMode, ListingState
from catalog.exchange.visibility import listable
from registry.access import is_member
from storage.db import SessionFactory, now_of, upgrade_to_write
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

MAX_PATH = 500
_SEGMENT = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$")


@dataclass(frozen=True)
class CallTicket:
    """An authorised call: where it goes, and what its record and its quota unit need."""

    listing_id: str
    grant_id: str | None
    account_id: str
    provider_entity_id: str
    upstream_url: str
    path: str
    at: datetime


def _safe_path(path: str) -> str:
    """The path below the service URL, refused when it could climb out of it or name another host."""
    decoded = unquote(path)
    segments = decoded.split("/")
    if len(path) > MAX_PATH or "\\" in decoded or any(s in (".", "..") for s in segments) or "//" in decoded:
        raise InvalidInput(
            "the path must stay below the service's URL", errors=[FieldProblem("path", "no dot segments or '//'")]
        )
    if not all(_SEGMENT.match(segment) for segment in path.split("/")):
        raise InvalidInput("the path has characters a URL path cannot carry", errors=[FieldProblem("path", "")])
    return "/".join(quote(segment, safe="") for segment in segments)


def authorize_call(session: Session, caller: Caller, listing_id: str, path: str, query: str) -> CallTicket:
    """Check a call to a listed data service: the caller's live grant for its product (its entity's members need
    none), and a path that stays below the service URL; nothing is used yet."""
    if caller.account_id is None:
        raise Forbidden("sign in to call a data service")
    listing = visible_listing(session, caller, listing_id)
    if listing.delivery_mode != DeliveryMode.api or listing.service_url is None:
        raise NotFound("the listing is not a data service")
    if listing.state != ListingState.listed:
        raise Conflict(f"the listing is {listing.state}: its service takes no calls")
    if caller.is_staff:
        raise Forbidden("the registry's staff do not call data services")
    safe = _safe_path(path)
    grant_id = None if is_member(caller, listing.entity_id) else _live_grant(session, caller, listing.product_id)
    session.commit()
    url = listing.service_url.rstrip("/") + "/" + safe + (f"?{query}" if query else "")
    return CallTicket(listing.id, grant_id, caller.account_id, listing.entity_id, url, safe, now_of(session))


def _usable(caller: Caller, product_id: str, now: datetime) -> object:
    return and_(col(AccessGrant.account_id) == caller.account_id, col(AccessGrant.product_id) == product_id, live(now))


def _live_grant(session: Session, caller: Caller, product_id: str) -> str:
    grant_id = session.exec(
        select(AccessGrant.id)
        .where(_usable(caller, product_id, now_of(session)))  # type: ignore[arg-type]
        .order_by(col(AccessGrant.valid_until).desc())
        .limit(1)
    ).first()
    if grant_id is None:
        raise Forbidden("no live grant for this product: it expired, was revoked, is used up, or never was")
    return grant_id


def count_call(session: Session, caller: Caller, ticket: CallTicket) -> None:
    """Use one unit of the ticket's grant now that the provider answered; refuse when it stopped being live."""
    if ticket.grant_id is None:
        return
    upgrade_to_write(session)
    result = session.execute(
        update(AccessGrant)
        .where(col(AccessGrant.id) == ticket.grant_id, live(ticket.at))
        .values(downloads_used=AccessGrant.downloads_used + 1)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        session.rollback()
        raise Forbidden("the grant stopped being live, or its quota was used up meanwhile")
    audit.record(session, caller, "grant.call", ticket.grant_id)
    session.commit()


@dataclass(frozen=True)
class CallOutcome:
    """How a forwarded call went: the status, the bytes each way, whether it ran to its end, and how long it took."""

    method: str
    status: int
    request_bytes: int
    response_bytes: int
    complete: bool
    duration_ms: int


def record_call(open_session: SessionFactory, ticket: CallTicket, outcome: CallOutcome) -> None:
    """Record a call when it ended, in a transaction of its own."""
    with open_session(write=True) as session:
        session.add(
            ServiceCall(
                listing_id=ticket.listing_id,
                grant_id=ticket.grant_id,
                account_id=ticket.account_id,
                provider_entity_id=ticket.provider_entity_id,
                method=outcome.method,
                path=ticket.path[:MAX_PATH],
                status=outcome.status,
                request_bytes=outcome.request_bytes,
                response_bytes=outcome.response_bytes,
                complete=outcome.complete,
                duration_ms=outcome.duration_ms,
                at=ticket.at,
            )
        )
        session.commit()


def list_calls(
    session: Session, caller: Caller, *, listing_id: str | None, limit: int, cursor: str | None
) -> PageOf[ServiceCall]:
    """The calls the caller may see (its own; its entity's as provider; all for the staff), newest first."""
    statement = listable(caller, ServiceCall, ServiceCall.account_id, ServiceCall.provider_entity_id)
    if listing_id:
        statement = statement.where(ServiceCall.listing_id == listing_id)
    return paginate_by_id(session, statement, ServiceCall.id, limit=limit, cursor=cursor)
