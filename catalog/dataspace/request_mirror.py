"""Access requests as contract negotiations: each request (for a dataset or a registered product) is mirrored, in
the request's own transaction, as a negotiation whose offer states the request's terms, so that every application
is a negotiation the parties (and the Dataspace Protocol) see alongside the others.

- filed: REQUESTED by the consumer; the offer is the purpose, scenario, use category and period asked.
- approved (its grant made): the offer narrowed to what was approved (last day, quota), AGREED by the provider who
  approved (signed and logged like any agreement), then VERIFIED and FINALIZED by the system: the consumer's
  application stands for its verification, and the request's grant is the negotiation's.
- rejected: TERMINATED by whoever refused, with the reason.
- waiting for an operator's second: no step; the negotiation stays REQUESTED until the second.

Such a negotiation takes no steps of its own (negotiations.take_step refuses them): the request moves it. Requests
filed before this existed were mirrored by migration 0018.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from auth.caller import Caller
from catalog.dataspace.models import Negotiation
from catalog.dataspace.negotiation import Side, State, Step, advance
from catalog.dataspace.negotiation_protocol import offer_iri
from catalog.dataspace.negotiations import SYSTEM_SIDE, Rules, record_step, sign_agreement
from catalog.dataspace.policies import read_policy
from catalog.dataspace.values import MAX_TEXT
from catalog.exchange.models import AccessRequest
from catalog.exchange.request_events import RequestEvent
from registry.access import is_member
from storage.db import now_of

REQUEST_PREFIX = "urn:pdr:access-request:"
MODEL_CONTRACT = "data_provision"
VERIFIED_BY_APPLICATION = "the consumer's application stands for its verification"


def request_terms(request: AccessRequest, *, last_day: date, quota: int | None) -> dict[str, Any]:
    """The terms of a request as an offer in pdr's profile (texts cut to the profile's length)."""
    constraints: list[dict[str, Any]] = [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": request.purpose[:MAX_TEXT]},
        {"leftOperand": "scenario", "operator": "eq", "rightOperand": request.scenario[:MAX_TEXT]},
        {"leftOperand": "useCategory", "operator": "eq", "rightOperand": request.use_category},
        {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": request.requested_from.isoformat()},
        {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": last_day.isoformat()},
        # An application for data is a provision of data, under the national model contract for it.
        {"leftOperand": "modelContract", "operator": "eq", "rightOperand": MODEL_CONTRACT},
    ]
    if quota is not None:
        constraints.append({"leftOperand": "count", "operator": "lteq", "rightOperand": quota})
    return read_policy({"permission": [{"action": "use", "constraint": constraints}]}).document()


def mirror(session: Session, caller: Caller, request: AccessRequest, event: RequestEvent, *, rules: Rules) -> None:
    """Move a dataset request's negotiation as the request moved (see the module's rules)."""
    if event == RequestEvent.filed:
        _open(session, caller, request)
        return
    negotiation = session.exec(select(Negotiation).where(Negotiation.request_id == request.id)).first()
    if negotiation is None or negotiation.state != State.REQUESTED:
        return
    if event == RequestEvent.approved:
        _finalize(session, negotiation, request, rules)
    elif event == RequestEvent.rejected:
        _terminate(session, caller, negotiation, request)


def _open(session: Session, caller: Caller, request: AccessRequest) -> None:
    now = now_of(session)
    negotiation = Negotiation(
        consumer_pid=f"urn:uuid:{uuid.uuid4()}",
        dataset_id=request.dataset_id,
        product_id=request.product_id,
        offer_id=request.id,
        provider_entity_id=request.provider_entity_id,
        account_id=request.account_id,
        entity_id=request.entity_id,
        state=advance(None, Step.request, Side.consumer),
        offer=request_terms(request, last_day=request.requested_until, quota=None),
        offer_iri=REQUEST_PREFIX + request.id,
        offered_by=Side.consumer,
        request_id=request.id,
        created_at=now,
        updated_at=now,
    )
    session.add(negotiation)
    session.flush()
    record_step(session, negotiation, Step.request, Side.consumer, caller.account_id, now)


def _finalize(session: Session, negotiation: Negotiation, request: AccessRequest, rules: Rules) -> None:
    """The approved terms agreed by the provider who approved, signed, then verified and finalized by the system."""
    now = now_of(session)
    approved = request_terms(
        request, last_day=request.approved_until or request.requested_until, quota=request.approved_quota
    )
    if approved != negotiation.offer:
        negotiation.offer, negotiation.offer_iri = approved, offer_iri(negotiation.id, 2)
    negotiation.offered_by = Side.provider
    negotiation.state = advance(State.REQUESTED, Step.agree, Side.provider)
    sign_agreement(session, negotiation, now, rules)
    record_step(
        session, negotiation, Step.agree, Side.provider, request.decided_by, now, reason=request.decision_reason
    )
    negotiation.state = advance(State.AGREED, Step.verify, Side.consumer)
    record_step(session, negotiation, Step.verify, SYSTEM_SIDE, None, now, reason=VERIFIED_BY_APPLICATION)
    negotiation.state = advance(State.VERIFIED, Step.finalize, Side.provider)
    negotiation.grant_id = request.grant_id
    negotiation.updated_at = now
    record_step(session, negotiation, Step.finalize, SYSTEM_SIDE, None, now)


def _terminate(session: Session, caller: Caller, negotiation: Negotiation, request: AccessRequest) -> None:
    """The refusal ends the negotiation: the provider's, or the operator's who would not second it."""
    now = now_of(session)
    side: Side | str = Side.provider if is_member(caller, request.provider_entity_id) else SYSTEM_SIDE
    negotiation.state = State.TERMINATED
    negotiation.updated_at = now
    record_step(session, negotiation, Step.terminate, side, caller.account_id, now, reason=request.decision_reason)
