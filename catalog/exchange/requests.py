"""Access requests: a consumer applies for conditional data or a registered product, one scenario per request;
the providing entity decides (and, where the settings ask, an operator seconds), and an approval makes a grant.

"No scenario, no registration; no registration, no trading."
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from auth import audit
from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.access import effective_access, visible_dataset
from catalog.datasets.models import DatasetState
from catalog.exchange.models import AccessGrant, AccessRequest
from catalog.exchange.request_events import RequestEvent, announce
from catalog.exchange.schemas import (
    AccessRequestCreate,
    Decision,
    RequestState,
)
from catalog.exchange.visibility import listable, may_see, visible_product
from registry import events
from registry.access import is_member
from registry.deadlines import china_date, china_midnight_utc
from registry.enums import Openness, SubjectStatus
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id


def _requester_allowed(caller: Caller) -> None:
    if caller.is_staff:
        raise Forbidden("the registry's staff do not apply for access; they review requests")
    if not caller.has_role(Role.consumer, Role.provider):
        raise Forbidden("only consumers and providers apply for access")


def create_request(session: Session, caller: Caller, data: AccessRequestCreate) -> AccessRequest:
    """File an access request for a conditional dataset or a registered product."""
    _requester_allowed(caller)
    today = china_date(now_of(session))
    if data.requested_until < data.requested_from:
        raise InvalidInput(
            "the period ends before it starts", errors=[FieldProblem("requested_until", "before requested_from")]
        )
    if data.requested_until < today:
        raise InvalidInput("the period is over already", errors=[FieldProblem("requested_until", "in the past")])
    if data.dataset_id is not None:
        # Anything the caller may not see is 404, so a not_open dataset's existence never leaks.
        dataset = visible_dataset(session, caller, data.dataset_id)
        if is_member(caller, dataset.entity_id):
            raise Conflict("your own entity's data needs no access request")
        if dataset.state != DatasetState.published:
            raise NotFound("no such dataset")
        if effective_access(session, dataset) != Openness.conditional:
            raise Conflict("only conditional datasets need an access request; open data is downloaded directly")
        provider_entity_id, dataset_id, product_id = dataset.entity_id, dataset.id, None
    else:
        assert data.product_id is not None
        product = visible_product(session, caller, data.product_id)
        if is_member(caller, product.entity_id):
            raise Conflict("your own entity's product needs no access request")
        if product.status != SubjectStatus.registered:
            raise Conflict("the product is not registered: no registration, no trading")
        provider_entity_id, dataset_id, product_id = product.entity_id, None, product.id
    request = AccessRequest(
        account_id=caller.account_id or "",
        entity_id=caller.entity_id,
        dataset_id=dataset_id,
        product_id=product_id,
        provider_entity_id=provider_entity_id,
        purpose=data.purpose,
        scenario=data.scenario,
        use_category=data.use_category.value,
        requested_from=data.requested_from,
        requested_until=data.requested_until,
        created_at=now_of(session),
        updated_at=now_of(session),
    )
    session.add(request)
    session.flush()  # a listener's rows refer to the request
    announce(session, caller, request, RequestEvent.filed)
    audit.record(session, caller, "access_request.create", request.id)
    session.commit()
    return request


def visible_request(session: Session, caller: Caller, request_id: str) -> AccessRequest:
    """A request its requester, its providing entity or the staff may see; anyone else gets 404."""
    request = session.get(AccessRequest, request_id)
    if request is None or not may_see(caller, request.account_id, request.provider_entity_id):
        raise NotFound("no such access request")
    return request


def grant_for(session: Session, request: AccessRequest) -> AccessGrant:
    """Turn an approved request into a grant, logged as a public exchange fact (ids and period only)."""
    until = request.approved_until or request.requested_until
    grant = AccessGrant(
        request_id=request.id,
        account_id=request.account_id,
        entity_id=request.entity_id,
        provider_entity_id=request.provider_entity_id,
        dataset_id=request.dataset_id,
        product_id=request.product_id,
        use_category=request.use_category,
        valid_from=china_midnight_utc(request.requested_from),
        # The grant runs to the end of its last China calendar day.
        valid_until=china_midnight_utc(until + timedelta(days=1)),
        download_quota=request.approved_quota,
        created_at=now_of(session),
    )
    session.add(grant)
    body: dict[str, Any] = {
        "grant_id": grant.id,
        "request_id": request.id,
        "provider_entity_id": request.provider_entity_id,
        "use_category": request.use_category,
        "valid_from": request.requested_from.isoformat(),
        "valid_until": until.isoformat(),
    }
    if request.dataset_id:
        body["dataset_id"] = request.dataset_id
    if request.product_id:
        body["product_id"] = request.product_id
    if request.entity_id:
        body["holder_entity_id"] = request.entity_id  # an organisation, not a person
    grant.log_index = events.emit(session, "access.grant", grant.id, body)
    request.grant_id = grant.id
    request.state = RequestState.approved
    return grant


def approve_request(
    session: Session, caller: Caller, request_id: str, decision: Decision, *, operator_second: bool
) -> AccessRequest:
    """The providing entity approves (and, where required, an operator seconds): the grant then exists."""
    request = visible_request(session, caller, request_id)
    now = now_of(session)
    if request.state == RequestState.pending:
        if not is_member(caller, request.provider_entity_id):
            raise Forbidden("only the providing entity approves a request")
        until = decision.until or request.requested_until
        if until > request.requested_until or until < request.requested_from:
            raise InvalidInput(
                "a grant runs within the requested period",
                errors=[FieldProblem("until", f"between {request.requested_from} and {request.requested_until}")],
            )
        request.approved_until = until
        request.approved_quota = decision.download_quota
        request.decision_reason = decision.reason
        request.decided_by = caller.account_id
        request.decided_at = now
        if operator_second:
            request.state = RequestState.provider_approved
        else:
            grant_for(session, request)
    elif request.state == RequestState.provider_approved:
        if not caller.is_staff:
            if is_member(caller, request.provider_entity_id):
                raise Conflict("approved already: the request waits for an operator's second")
            raise Forbidden("only an operator seconds an approval")
        request.seconded_by = caller.account_id
        request.seconded_at = now
        grant_for(session, request)
    else:
        raise Conflict(f"the request is {request.state} already")
    request.updated_at = now
    approved = request.state == RequestState.approved
    announce(session, caller, request, RequestEvent.approved if approved else RequestEvent.provider_approved)
    audit.record(session, caller, "access_request.approve", request.id)
    session.commit()
    return request


def reject_request(session: Session, caller: Caller, request_id: str, reason: str) -> AccessRequest:
    """The providing entity (or, for an approval awaiting its second, an operator) refuses, with a reason."""
    request = visible_request(session, caller, request_id)
    if request.state == RequestState.pending:
        if not is_member(caller, request.provider_entity_id):
            raise Forbidden("only the providing entity decides on a request")
    elif request.state == RequestState.provider_approved:
        if not (caller.is_staff or is_member(caller, request.provider_entity_id)):
            raise Forbidden("only the providing entity or an operator refuses this request")
    else:
        raise Conflict(f"the request is {request.state} already")
    now = now_of(session)
    request.state = RequestState.rejected
    request.decision_reason = reason
    request.decided_by = caller.account_id
    request.decided_at = now
    request.updated_at = now
    announce(session, caller, request, RequestEvent.rejected)
    audit.record(session, caller, "access_request.reject", request.id)
    session.commit()
    return request


def list_requests(
    session: Session, caller: Caller, *, state: str | None, limit: int, cursor: str | None
) -> PageOf[AccessRequest]:
    """The requests the caller may see, newest first."""
    statement = listable(caller, AccessRequest, AccessRequest.account_id, AccessRequest.provider_entity_id)
    if state:
        statement = statement.where(AccessRequest.state == state)
    return paginate_by_id(session, statement, AccessRequest.id, limit=limit, cursor=cursor)
