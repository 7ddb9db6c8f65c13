"""Use cases of contract negotiations: pdr is the provider of its verified entities' conditional datasets, a
signed-in consumer or provider of another entity the consumer. Each step follows catalog.dataspace.negotiation's
state machine, is recorded with who took it, when and the protocol message it was, and commits once.

FINALIZED makes a grant through the same path an approved access request takes, so the download policy applies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, func, select

from auth import audit
from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.access import effective_access, visible_dataset
from catalog.datasets.models import DatasetState
from catalog.dataspace import agreement_credentials
from catalog.dataspace.agreements import (
    AGREEMENT_PREFIX,
    MAX_TEXT,
    agreement_document,
    fee_of,
    free_welfare,
    participant,
    terms_of,
)
from catalog.dataspace.callbacks import NEGOTIATION_PATHS, OUTBOX, negotiation_url, send_in_order
from catalog.dataspace.documents import OFFER_PREFIX
from catalog.dataspace.models import Agreement, DatasetOffer, Negotiation, NegotiationStep
from catalog.dataspace.negotiation import OPEN, Side, State, Step, advance
from catalog.dataspace.negotiation_protocol import offer_iri, provider_pid, step_message, target_iri
from catalog.dataspace.policies import read_policy
from catalog.dataspace.transfers import end_transfers
from catalog.exchange.grants import mark_revoked
from catalog.exchange.models import AccessGrant, AccessRequest
from catalog.exchange.requests import grant_for
from catalog.exchange.schemas import GrantState
from catalog.exchange.visibility import listable, may_see
from catalog.exchange.vouchers import issue_voucher
from registry.access import is_member
from registry.deadlines import china_date
from registry.enums import Openness
from registry.models import Entity
from storage.db import now_of
from storage.exceptions import Conflict, Forbidden, NotFound
from storage.pagination import PageOf, paginate_by_id

SYSTEM_SIDE = "system"


@dataclass(frozen=True)
class Rules:
    """The settings a negotiation follows: the fee cap offers are checked against, and automatic agreement."""

    fee_cap: Decimal | None = None
    # Agree and finalize without a person when the consumer takes a free public-welfare offer as it stands.
    auto_agree_free_welfare: bool = False
    # The service's public URL, which the issuer's status list is named by when an agreement publishes it first.
    base_url: str = ""


@dataclass(frozen=True)
class Opening:
    """What a consumer sends to open a negotiation: the offer it names, and its own terms if it changes them."""

    offer_id: str
    terms: dict[str, Any] | None = None
    consumer_pid: str | None = None
    callback_address: str | None = None
    dataset_id: str | None = None  # the message's target, when it names one


def _may_negotiate(caller: Caller) -> None:
    if caller.is_staff:
        raise Forbidden("the registry's staff do not negotiate; they may read negotiations")
    if not caller.has_role(Role.consumer, Role.provider):
        raise Forbidden("only consumers and providers negotiate")


def _offer_of(session: Session, caller: Caller, opening: Opening) -> tuple[DatasetOffer, str]:
    """The offer named and its dataset's entity, if the caller may negotiate it."""
    offer = session.get(DatasetOffer, opening.offer_id.removeprefix(OFFER_PREFIX))
    if offer is None:
        raise NotFound("no such offer")
    dataset = visible_dataset(session, caller, offer.dataset_id)
    if opening.dataset_id is not None and opening.dataset_id != dataset.id:
        raise NotFound("the offer is not one of the target dataset's")
    if dataset.state != DatasetState.published:
        raise NotFound("no such offer")
    if effective_access(session, dataset) != Openness.conditional:
        raise Conflict("only conditional datasets are negotiated; open data is downloaded directly")
    entity = session.get(Entity, dataset.entity_id)
    if entity is None or entity.status != "verified":
        raise Conflict("the dataset's entity is not verified by the registry: it cannot agree contracts")
    if is_member(caller, dataset.entity_id):
        raise Conflict("your own entity's data needs no contract")
    return offer, dataset.entity_id


def start_negotiation(session: Session, caller: Caller, opening: Opening, rules: Rules) -> Negotiation:
    """A consumer requests an offer of a dataset, as it stands or with its own terms: the negotiation is REQUESTED."""
    session.info.pop(OUTBOX, None)  # nothing a failed call queued is sent
    _may_negotiate(caller)
    if caller.entity_id is not None:
        # Participants are registry-verified entities (or people acting for none, named by their account).
        own = session.get(Entity, caller.entity_id)
        if own is None or own.status != "verified":
            raise Conflict("your entity is not verified by the registry: it cannot negotiate in the data space yet")
    offer, provider_entity_id = _offer_of(session, caller, opening)
    now = now_of(session)
    negotiation = Negotiation(
        consumer_pid=opening.consumer_pid or f"urn:uuid:{uuid.uuid4()}",
        dataset_id=offer.dataset_id,
        offer_id=offer.id,
        provider_entity_id=provider_entity_id,
        account_id=caller.account_id or "",
        entity_id=caller.entity_id,
        state=advance(None, Step.request, Side.consumer),
        offer=offer.policy,
        offer_iri=OFFER_PREFIX + offer.id,
        offered_by=Side.consumer,
        callback_address=opening.callback_address,
        created_at=now,
        updated_at=now,
    )
    if opening.terms is not None:
        _set_offer(negotiation, opening.terms, Side.consumer, 1, rules)
    session.add(negotiation)
    session.flush()
    record_step(session, negotiation, Step.request, Side.consumer, caller.account_id, now)
    audit.record(session, caller, "negotiation.request", negotiation.id)
    _agree_automatically(session, negotiation, rules, now)
    session.commit()
    _send_callbacks(session)
    return negotiation


def _set_offer(negotiation: Negotiation, terms: dict[str, Any], side: Side, seq: int, rules: Rules) -> None:
    """Make `terms` the latest offer, checked against the profile; terms equal to the current ones keep its @id."""
    policy = read_policy(terms, fee_cap=rules.fee_cap).document()
    if policy != negotiation.offer:
        negotiation.offer = policy
        negotiation.offer_iri = offer_iri(negotiation.id, seq)
    negotiation.offered_by = side


def visible_negotiation(session: Session, caller: Caller, negotiation_id: str) -> Negotiation:
    """A negotiation its consumer, its provider entity's members or the staff may see; anyone else gets 404."""
    negotiation = session.get(Negotiation, negotiation_id)
    if negotiation is None or not may_see(caller, negotiation.account_id, negotiation.provider_entity_id):
        raise NotFound("no such negotiation")
    return negotiation


def list_negotiations(
    session: Session, caller: Caller, *, state: State | None, limit: int, cursor: str | None
) -> PageOf[Negotiation]:
    """The negotiations the caller may see (its own, its entity's as provider, all for the staff), newest first."""
    statement = listable(caller, Negotiation, Negotiation.account_id, Negotiation.provider_entity_id)
    if state:
        statement = statement.where(Negotiation.state == state.value)
    return paginate_by_id(session, statement, Negotiation.id, limit=limit, cursor=cursor)


def steps_of(session: Session, negotiation: Negotiation) -> list[NegotiationStep]:
    """Every step of a negotiation, in order."""
    statement = select(NegotiationStep).where(NegotiationStep.negotiation_id == negotiation.id)
    return list(session.exec(statement.order_by(NegotiationStep.seq)))  # type: ignore[arg-type]


def _side_of(caller: Caller, negotiation: Negotiation) -> Side:
    if caller.account_id is not None and caller.account_id == negotiation.account_id:
        return Side.consumer
    if is_member(caller, negotiation.provider_entity_id):
        return Side.provider
    raise Forbidden("the registry's staff read negotiations; only its parties take steps")


def take_step(
    session: Session,
    caller: Caller,
    negotiation_id: str,
    step: Step,
    rules: Rules,
    *,
    terms: dict[str, Any] | None = None,
    code: str | None = None,
    reason: str | None = None,
) -> Negotiation:
    """One party's step in a negotiation (not its opening): checked against the state machine, recorded, committed."""
    session.info.pop(OUTBOX, None)  # nothing a failed call queued is sent
    negotiation = visible_negotiation(session, caller, negotiation_id)
    side = _side_of(caller, negotiation)
    if negotiation.request_id is not None:
        raise Conflict(
            f"this negotiation mirrors access request {negotiation.request_id}: it moves as the request is decided"
        )
    now = now_of(session)
    _apply(session, negotiation, step, side, caller.account_id, now, rules, terms=terms)
    record_step(session, negotiation, step, side, caller.account_id, now, code=code, reason=reason)
    audit.record(session, caller, f"negotiation.{step.value}", negotiation.id)
    if step == Step.terminate:
        _end_agreement(session, negotiation, agreement_credentials.TERMINATED, reason or "", caller.account_id)
    if step == Step.request:
        _agree_automatically(session, negotiation, rules, now)
    elif step == Step.verify:
        _finalize_automatically(session, negotiation, rules, now)
    session.commit()
    _send_callbacks(session)
    return negotiation


def _apply(
    session: Session,
    negotiation: Negotiation,
    step: Step,
    side: Side,
    actor_id: str | None,
    now: datetime,
    rules: Rules,
    *,
    terms: dict[str, Any] | None = None,
) -> None:
    """Move the negotiation by one step and do what the step does (a new offer, the agreement, the grant)."""
    target = advance(State(negotiation.state), step, side)
    if step in (Step.request, Step.offer):
        if terms is None:
            raise Conflict(f"a {step.value} carries an offer's terms")
        _set_offer(negotiation, terms, side, _next_seq(session, negotiation), rules)
    elif step == Step.agree:
        sign_agreement(session, negotiation, now, rules)
    elif step == Step.finalize:
        _grant(session, negotiation, actor_id, now)
    negotiation.state = target
    negotiation.updated_at = now


def sign_agreement(session: Session, negotiation: Negotiation, now: datetime, rules: Rules) -> None:
    """The latest offer becomes the agreement, once it fixes everything a grant needs: signed and logged."""
    terms = terms_of(read_policy(negotiation.offer), china_date(now), reference=provider_pid(negotiation))
    negotiation.agreement = agreement_document(
        negotiation.id,
        negotiation.offer,
        target=target_iri(negotiation),
        provider_entity_id=negotiation.provider_entity_id,
        assignee=participant(negotiation.account_id, negotiation.entity_id),
        at=now,
    )
    agreement_credentials.sign(session, negotiation.id, negotiation.agreement, terms.end, rules.base_url)


def _grant(session: Session, negotiation: Negotiation, actor_id: str | None, now: datetime) -> None:
    """Make the agreement's grant as an approved access request does: same row, same log entry, same policy; and,
    when the terms carry a fee, the agreement's trade voucher."""
    assert negotiation.agreement is not None and negotiation.dataset_id is not None  # catalog offers are datasets'
    agreed_on = china_date(datetime.fromisoformat(negotiation.agreement["timestamp"]))
    policy = read_policy(negotiation.offer)
    terms = terms_of(policy, agreed_on, reference=negotiation.agreement["@id"])
    request = AccessRequest(
        account_id=negotiation.account_id,
        entity_id=negotiation.entity_id,
        dataset_id=negotiation.dataset_id,
        provider_entity_id=negotiation.provider_entity_id,
        purpose=terms.purpose,
        scenario=terms.scenario,
        use_category=terms.use_category,
        requested_from=terms.start,
        requested_until=terms.end,
        approved_until=terms.end,
        approved_quota=terms.quota,
        decision_reason=negotiation.agreement["@id"],
        decided_by=actor_id,
        decided_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()  # the grant refers to the request row
    negotiation.grant_id = grant_for(session, request).id
    fee = fee_of(policy)
    if fee is not None:
        signed = session.get(Agreement, negotiation.id)
        assert signed is not None  # signed at AGREED, so before any finalization
        issue_voucher(
            session,
            agreement_id=negotiation.id,
            agreement_log_index=signed.log_index,
            assigner_entity_id=negotiation.provider_entity_id,
            account_id=negotiation.account_id,
            entity_id=negotiation.entity_id,
            dataset_id=negotiation.dataset_id,
            price=fee,
            at=now,
        )


def _send_callbacks(session: Session) -> None:
    """Send the consumer's callbacks the committed steps queued, in their order."""
    send_in_order(session.info.pop(OUTBOX, []))


def _next_seq(session: Session, negotiation: Negotiation) -> int:
    statement = select(func.max(NegotiationStep.seq)).where(NegotiationStep.negotiation_id == negotiation.id)
    return int(session.exec(statement).one() or 0) + 1


def record_step(
    session: Session,
    negotiation: Negotiation,
    step: Step,
    side: Side | str,
    actor_id: str | None,
    now: datetime,
    *,
    code: str | None = None,
    reason: str | None = None,
) -> None:
    """Record a step the negotiation just took, as the protocol message it was."""
    seq = _next_seq(session, negotiation)
    message = step_message(negotiation, step, code=code, reason=reason, opening=seq == 1)
    if negotiation.callback_address and side != Side.consumer and message["@type"] in NEGOTIATION_PATHS:
        # The provider's messages go to the consumer's callback once the step is committed (_send_callbacks).
        url = negotiation_url(negotiation.callback_address, negotiation.consumer_pid, str(message["@type"]))
        session.info.setdefault(OUTBOX, []).append((url, message))
    row = NegotiationStep(
        negotiation_id=negotiation.id,
        seq=seq,
        side=str(side),
        actor_id=actor_id,
        state=negotiation.state,
        message_type=str(message["@type"]),
        message=message,
        reason=reason,
        at=now,
    )
    session.add(row)
    session.flush()


def _automatic(session: Session, negotiation: Negotiation, rules: Rules) -> bool:
    """Whether the provider's steps go without a person: the setting is on and a free public-welfare catalog offer
    is taken as it stands."""
    if not rules.auto_agree_free_welfare or negotiation.offer_iri != OFFER_PREFIX + negotiation.offer_id:
        return False
    offer = session.get(DatasetOffer, negotiation.offer_id)
    return offer is not None and offer.policy == negotiation.offer and free_welfare(read_policy(negotiation.offer))


def _agree_automatically(session: Session, negotiation: Negotiation, rules: Rules, now: datetime) -> None:
    if not _automatic(session, negotiation, rules):
        return
    try:
        _apply(session, negotiation, Step.agree, Side.provider, None, now, rules)
    except Conflict:  # terms a grant cannot be made from wait for the provider's counter-offer
        return
    record_step(session, negotiation, Step.agree, SYSTEM_SIDE, None, now)


def _finalize_automatically(session: Session, negotiation: Negotiation, rules: Rules, now: datetime) -> None:
    if _automatic(session, negotiation, rules):
        _apply(session, negotiation, Step.finalize, Side.provider, None, now, rules)
        record_step(session, negotiation, Step.finalize, SYSTEM_SIDE, None, now)


# ---------------------------------------------------------------- signed agreements


def visible_agreement(session: Session, caller: Caller, agreement_id: str) -> Agreement:
    """A signed agreement its parties or the staff may see (its id or @id); anyone else gets 404."""
    negotiation_id = agreement_id.removeprefix(AGREEMENT_PREFIX)
    try:
        visible_negotiation(session, caller, negotiation_id)
    except NotFound:
        raise NotFound("no such agreement") from None
    row = session.get(Agreement, negotiation_id)
    if row is None:
        raise NotFound("no such agreement")
    return row


def end_agreement(
    session: Session, caller: Caller, agreement_id: str, status: str, reason: str, rules: Rules
) -> Agreement:
    """Either party terminates an agreement, or the provider retires it, with a reason: a negotiation still open is
    terminated, a finalized one's grant revoked, and the agreement's status bit set and logged."""
    session.info.pop(OUTBOX, None)  # nothing a failed call queued is sent
    row = visible_agreement(session, caller, agreement_id)
    negotiation = visible_negotiation(session, caller, row.id)
    side = _side_of(caller, negotiation)
    if status == agreement_credentials.RETIRED and side != Side.provider:
        raise Forbidden("only the provider retires an agreement; either party may terminate it")
    if row.status != agreement_credentials.VALID:
        raise Conflict(f"the agreement is {row.status} already")
    now = now_of(session)
    if State(negotiation.state) in OPEN:
        _apply(session, negotiation, Step.terminate, side, caller.account_id, now, rules)
        record_step(session, negotiation, Step.terminate, side, caller.account_id, now, reason=reason)
    _end_agreement(session, negotiation, status, reason, caller.account_id)
    audit.record(
        session, caller, f"agreement.{'retire' if status == agreement_credentials.RETIRED else 'terminate'}", row.id
    )
    session.commit()
    _send_callbacks(session)
    return row


def _end_agreement(session: Session, negotiation: Negotiation, status: str, reason: str, actor: str | None) -> None:
    """End the negotiation's signed agreement, if it holds, and revoke the grant made under it."""
    row = session.get(Agreement, negotiation.id)
    if row is None or row.status != agreement_credentials.VALID:
        return
    agreement_credentials.end(session, row, status, reason, actor)
    grant = session.get(AccessGrant, negotiation.grant_id) if negotiation.grant_id else None
    if grant is not None and grant.state != GrantState.revoked:
        mark_revoked(session, grant, reason, actor)
    end_transfers(session, negotiation.id, f"the agreement was {status}: {reason}"[:MAX_TEXT], actor)
