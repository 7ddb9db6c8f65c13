"""Contract negotiations and their agreements as the consoles show them: the latest offer's key terms in words, the
steps with who took them, the steps the state machine allows the viewing side now, and the agreement's status; and
a conditional dataset's offers, which its page lets a consumer negotiate as they stand."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from auth.caller import Caller
from auth.models import Account
from catalog.datasets.models import Dataset
from catalog.dataspace import agreement_credentials, negotiations, service
from catalog.dataspace.agreements import fee_of, terms_of
from catalog.dataspace.models import Agreement, Negotiation
from catalog.dataspace.negotiation import OPEN, TRANSITIONS, Side, State, Step
from catalog.dataspace.negotiations import Rules
from catalog.dataspace.policies import read_policy
from catalog.dataspace.schemas import NegotiationTermination
from catalog.dataspace.values import Duration
from registry.deadlines import china_date
from registry.models import DataProduct, Entity
from storage.db import now_of
from storage.exceptions import Conflict, DomainError, NotFound
from storage.pagination import PageOf

ROWS = 50
# The steps each side takes from its console; the state machine decides which of them the negotiation's state
# allows. The provider's counter-offer changes the last day and the quota only; a consumer's counter-offer, and any
# other terms, go through the API, which takes whole terms.
CONSOLE_STEPS = {
    Side.consumer: (Step.accept, Step.verify, Step.terminate),
    Side.provider: (Step.offer, Step.agree, Step.finalize, Step.terminate),
}
# How each side may end an agreement once its negotiation is over (an open one ends it by terminating), and the
# status each ending leaves it in.
AGREEMENT_ENDINGS = {Side.consumer: ("terminate",), Side.provider: ("retire", "terminate")}
ENDED_AS = {"terminate": agreement_credentials.TERMINATED, "retire": agreement_credentials.RETIRED}


@dataclass(frozen=True)
class KeyTerms:
    """What an offer fixes, as a person reads it: the period, the download quota, the fee and the uses."""

    starts: date | None
    ends: date | None
    longest: Duration | None
    quota: int | None
    fee: Decimal | None
    uses: tuple[str, ...]


def key_terms(offer: dict[str, Any]) -> KeyTerms:
    """The key terms of an offer stored in pdr's profile."""
    policy = read_policy(offer)
    bounds = {c.operator: c.right.value for c in policy.constraints("dateTime")}
    lengths = [c.right.value for c in policy.constraints("elapsedTime")]
    quotas = [int(c.right.value) for c in policy.constraints("count")]
    uses: list[str] = []
    for constraint in policy.constraints("useCategory"):
        wire = constraint.right.wire
        uses += wire if isinstance(wire, list) else [wire]
    return KeyTerms(
        starts=bounds.get("gteq"),
        ends=bounds.get("lteq"),
        longest=lengths[0] if lengths else None,
        quota=min(quotas) if quotas else None,
        fee=fee_of(policy),
        uses=tuple(dict.fromkeys(uses)),
    )


@dataclass(frozen=True)
class NegotiationRow:
    """A negotiation in a console's list: its dataset's title, the other party, and its latest offer's key terms."""

    negotiation: Negotiation
    title: str
    party: str
    terms: KeyTerms


@dataclass(frozen=True)
class NegotiationList:
    """A page of negotiations, newest first."""

    items: list[NegotiationRow]
    count: int
    next_cursor: str | None


def _titles(session: Session, rows: Sequence[Negotiation]) -> dict[str, str]:
    """What each negotiation is about, by its id: its dataset's title, or its product's name."""
    datasets = {n.dataset_id for n in rows if n.dataset_id}
    products = {n.product_id for n in rows if n.product_id}
    names: dict[str, str] = {}
    if datasets:
        names.update(session.exec(select(Dataset.id, Dataset.title).where(col(Dataset.id).in_(datasets))).all())
    if products:
        names.update(session.exec(select(DataProduct.id, DataProduct.name).where(col(DataProduct.id).in_(products))))
    return {n.id: names.get(n.dataset_id or n.product_id or "", n.dataset_id or n.product_id or "") for n in rows}


def _entity_names(session: Session, entity_ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {entity_id for entity_id in entity_ids if entity_id}
    if not wanted:
        return {}
    return dict(session.exec(select(Entity.id, Entity.name).where(col(Entity.id).in_(wanted))).all())


def account_names(session: Session, account_ids: Iterable[str | None]) -> dict[str, str]:
    """The names of some accounts, by id."""
    wanted = {account_id for account_id in account_ids if account_id}
    if not wanted:
        return {}
    return dict(session.exec(select(Account.id, Account.name).where(col(Account.id).in_(wanted))).all())


def _parties(session: Session, rows: Sequence[Negotiation], side: Side) -> dict[str, str]:
    """The other party of each negotiation, by id: the provider entity for its consumer; for its provider, the
    consumer's entity when it acts for one, else its account."""
    if side == Side.consumer:
        entities = _entity_names(session, (n.provider_entity_id for n in rows))
        return {n.id: entities.get(n.provider_entity_id, "") for n in rows}
    entities = _entity_names(session, (n.entity_id for n in rows))
    accounts = account_names(session, (n.account_id for n in rows))
    return {n.id: entities.get(n.entity_id or "") or accounts.get(n.account_id, "") for n in rows}


def negotiation_list(session: Session, page: PageOf[Negotiation], side: Side) -> NegotiationList:
    """A page of negotiations as a console lists them to one side."""
    rows = list(page.items)
    titles = _titles(session, rows)
    parties = _parties(session, rows, side)
    items = [NegotiationRow(n, titles[n.id], parties[n.id], key_terms(n.offer)) for n in rows]
    return NegotiationList(items, page.count, page.next_cursor)


@dataclass(frozen=True)
class StepRow:
    """One step as the page shows it: which side, who, when, the state it led to, and the reason given."""

    seq: int
    side: str
    actor: str
    state: str
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class AgreementView:
    """A negotiation's signed agreement: its status now, its validity, and how it ended if it did."""

    agreement: Agreement
    status: str
    endings: tuple[str, ...]


@dataclass(frozen=True)
class NegotiationPage:
    """A negotiation for one side: its terms, steps, the steps that side may take now, and the agreement."""

    negotiation: Negotiation
    title: str
    party: str
    terms: KeyTerms
    steps: list[StepRow]
    actions: tuple[str, ...]
    agreement: AgreementView | None
    # False when the latest offer leaves the grant undefined, so that agreeing to it would be refused.
    agreeable: bool


def allowed_steps(state: str, side: Side) -> tuple[str, ...]:
    """The steps of a side's console that the state machine allows in `state`."""
    current = State(state)
    return tuple(
        step.value
        for step in CONSOLE_STEPS[side]
        if TRANSITIONS[step].side in (None, side) and current in TRANSITIONS[step].sources
    )


def _agreement(session: Session, caller: Caller, negotiation: Negotiation, side: Side) -> AgreementView | None:
    try:
        row = negotiations.visible_agreement(session, caller, negotiation.id)
    except NotFound:
        return None
    status = agreement_credentials.status_of(row, now_of(session))
    over = State(negotiation.state) not in OPEN
    endings = AGREEMENT_ENDINGS[side] if over and status == agreement_credentials.VALID else ()
    return AgreementView(row, status, endings)


def _agreeable(session: Session, negotiation: Negotiation) -> bool:
    try:
        terms_of(read_policy(negotiation.offer), china_date(now_of(session)), reference=negotiation.id)
    except Conflict:
        return False
    return True


def negotiation_page(session: Session, caller: Caller, negotiation: Negotiation, side: Side) -> NegotiationPage:
    """What a negotiation's page shows to one of its sides."""
    steps = negotiations.steps_of(session, negotiation)
    names = account_names(session, (step.actor_id for step in steps))
    listed = negotiation_list(session, PageOf([negotiation], 1, None), side).items[0]
    return NegotiationPage(
        negotiation=negotiation,
        title=listed.title,
        party=listed.party,
        terms=listed.terms,
        steps=[StepRow(s.seq, s.side, names.get(s.actor_id or "", ""), s.state, s.at, s.reason) for s in steps],
        # A negotiation mirroring an access request moves as the request is decided, not by steps of its own.
        actions=() if negotiation.request_id else allowed_steps(negotiation.state, side),
        agreement=_agreement(session, caller, negotiation, side),
        agreeable=_agreeable(session, negotiation),
    )


@dataclass(frozen=True)
class OfferRow:
    """One of a dataset's offers, with its key terms."""

    id: str
    terms: KeyTerms


def offers_to_negotiate(session: Session, caller: Caller, dataset_id: str, conditional: bool) -> list[OfferRow]:
    """The offers a conditional dataset's page shows, oldest first; none for other datasets."""
    if not conditional:
        return []
    found = service.list_offers(session, caller, dataset_id, limit=service.MAX_OFFERS, cursor=None)
    return [OfferRow(offer.id, key_terms(offer.policy)) for offer in found.items]


@dataclass(frozen=True)
class Refusal:
    """Why the service refused a form's step: the form (its action), the status and the service's own words, and
    the field to correct, if one is to blame."""

    action: str
    status: int
    detail: str
    field: str | None = None


def _reason(text: str) -> str:
    """A reason as the API takes it (1 to 2000 characters); pydantic's ValidationError otherwise."""
    return NegotiationTermination.model_validate({"reason": text.strip()}).reason


def _attempt(session: Session, action: str, act: Callable[[], object]) -> Refusal | None:
    """Run one use case; a refusal is rolled back and returned, except 404, which the page answers as such."""
    try:
        act()
    except ValidationError:
        return Refusal(action, 422, "", "reason")
    except NotFound:
        raise
    except DomainError as error:
        session.rollback()
        return Refusal(action, error.status, error.detail)
    return None


def take(
    session: Session, caller: Caller, rules: Rules, negotiation_id: str, step: Step, reason: str
) -> Refusal | None:
    """Take one step of a negotiation through its use case (a termination with its reason); why not, if refused."""
    return _attempt(
        session,
        step.value,
        lambda: negotiations.take_step(
            session, caller, negotiation_id, step, rules, reason=_reason(reason) if step == Step.terminate else None
        ),
    )


def end(
    session: Session, caller: Caller, rules: Rules, negotiation_id: str, ending: str, reason: str
) -> Refusal | None:
    """Terminate or retire a negotiation's agreement through its use case, with a reason; why not, if refused."""
    return _attempt(
        session,
        f"agreement-{ending}",
        lambda: negotiations.end_agreement(session, caller, negotiation_id, ENDED_AS[ending], _reason(reason), rules),
    )


def countered_terms(offer: dict[str, Any], last_day: str, quota: str) -> dict[str, Any]:
    """An offer's terms with its last day (dateTime lteq) and download quota (count lteq) set, every other term as it
    was; ValueError unless they are a date and a whole number of at least 1."""
    new_values: dict[tuple[str, str], str | int] = {
        ("dateTime", "lteq"): date.fromisoformat(last_day.strip()).isoformat(),
        ("count", "lteq"): int(quota.strip()),
    }
    if int(new_values[("count", "lteq")]) < 1:
        raise ValueError("a download quota is at least 1")
    terms = deepcopy(offer)
    permission = terms["permission"][0]
    constraints = list(permission.get("constraint", []))
    for index, constraint in enumerate(constraints):
        key = (constraint["leftOperand"], constraint["operator"])
        if key in new_values:
            constraints[index] = {**constraint, "rightOperand": new_values.pop(key)}
    constraints += [
        {"leftOperand": left, "operator": op, "rightOperand": value} for (left, op), value in new_values.items()
    ]
    permission["constraint"] = constraints
    return terms


def counter(
    session: Session, caller: Caller, rules: Rules, negotiation_id: str, last_day: str, quota: str
) -> Refusal | None:
    """The provider's counter-offer: the latest offer with a new last day and download quota, as POST
    /api/v1/negotiations/{id}/offer makes it; why not, if refused (field "terms" for terms to correct)."""
    negotiation = negotiations.visible_negotiation(session, caller, negotiation_id)
    try:
        terms = countered_terms(negotiation.offer, last_day, quota)
    except ValueError:
        return Refusal(Step.offer.value, 422, "", "terms")
    refusal = _attempt(
        session,
        Step.offer.value,
        lambda: negotiations.take_step(session, caller, negotiation_id, Step.offer, rules, terms=terms),
    )
    return replace(refusal, field="terms") if refusal is not None and refusal.status == 422 else refusal
