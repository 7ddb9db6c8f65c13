"""Use cases of a dataset's offers: write (checked against the profile), list, read, delete, and explain.

Writing follows the rules of editing the dataset itself (catalog.datasets.access); reading follows its visibility.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from auth import audit
from auth.caller import Caller
from catalog.datasets.access import check_may_change, effective_access, visible_dataset
from catalog.datasets.models import Dataset
from catalog.dataspace.explain import Check, Prospect, explain
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.policies import read_policy
from catalog.dataspace.schemas import CheckPublic, ExplanationPublic, OfferExplanation, ProspectiveRequest
from registry.enums import Openness
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

# Enough for every use category and period a provider would offer; it bounds what one evaluation reads.
MAX_OFFERS = 20


def create_offer(
    session: Session, caller: Caller, dataset_id: str, document: dict[str, Any], *, fee_cap: Decimal
) -> DatasetOffer:
    """Add an offer to a conditional dataset, refused (422, naming each term) unless the profile allows it."""
    dataset = visible_dataset(session, caller, dataset_id)
    check_may_change(session, caller, dataset)
    if effective_access(session, dataset) != Openness.conditional:
        raise Conflict("only conditional datasets carry offers: open data is downloaded freely, not_open never")
    policy = read_policy(document, fee_cap=fee_cap)
    if _count(session, dataset.id) >= MAX_OFFERS:
        raise Conflict(f"a dataset carries at most {MAX_OFFERS} offers; delete one first")
    offer = DatasetOffer(
        dataset_id=dataset.id, policy=policy.document(), created_by=caller.account_id, created_at=now_of(session)
    )
    session.add(offer)
    audit.record(session, caller, "offer.create", f"dataset:{dataset.id}")
    session.commit()
    return offer


def _count(session: Session, dataset_id: str) -> int:
    statement = select(func.count()).select_from(DatasetOffer).where(DatasetOffer.dataset_id == dataset_id)
    return int(session.exec(statement).one())


def list_offers(
    session: Session, caller: Caller, dataset_id: str, *, limit: int, cursor: str | None
) -> PageOf[DatasetOffer]:
    """The offers of a dataset the caller may see, oldest first."""
    dataset = visible_dataset(session, caller, dataset_id)
    statement = select(DatasetOffer).where(DatasetOffer.dataset_id == dataset.id)
    return paginate_by_id(session, statement, DatasetOffer.id, limit=limit, cursor=cursor, newest_first=False)


def get_offer(session: Session, caller: Caller, dataset_id: str, offer_id: str) -> DatasetOffer:
    """One offer of a dataset the caller may see."""
    dataset = visible_dataset(session, caller, dataset_id)
    return _offer_of(session, dataset, offer_id)


def _offer_of(session: Session, dataset: Dataset, offer_id: str) -> DatasetOffer:
    offer = session.get(DatasetOffer, offer_id)
    if offer is None or offer.dataset_id != dataset.id:
        raise NotFound("no such offer")
    return offer


def delete_offer(session: Session, caller: Caller, dataset_id: str, offer_id: str) -> None:
    """Take an offer back; whoever may edit the dataset may."""
    dataset = visible_dataset(session, caller, dataset_id)
    check_may_change(session, caller, dataset)
    offer = _offer_of(session, dataset, offer_id)
    session.delete(offer)
    audit.record(session, caller, "offer.delete", f"dataset:{dataset.id}")
    session.commit()


def offers_of(session: Session, dataset_ids: list[str]) -> dict[str, list[DatasetOffer]]:
    """The offers of several datasets at once, oldest first (for catalog pages)."""
    found: dict[str, list[DatasetOffer]] = {dataset_id: [] for dataset_id in dataset_ids}
    if dataset_ids:
        statement = select(DatasetOffer).where(col(DatasetOffer.dataset_id).in_(dataset_ids)).order_by(DatasetOffer.id)
        for offer in session.exec(statement):
            found[offer.dataset_id].append(offer)
    return found


def prospect_of(data: ProspectiveRequest) -> Prospect:
    """A prospective request as the evaluator reads it; a period that ends before it starts is refused."""
    if data.requested_until < data.requested_from:
        raise InvalidInput(
            "the period ends before it starts", errors=[FieldProblem("requested_until", "before requested_from")]
        )
    return Prospect(
        purpose=data.purpose,
        scenario=data.scenario,
        use_category=data.use_category.value,
        start=data.requested_from,
        end=data.requested_until,
        region=data.region,
        downloads=data.downloads,
        model_contract=data.model_contract.value if data.model_contract else None,
        onward_transfer=data.onward_transfer,
        sublicensing=data.sublicensing,
    )


def explain_offers(session: Session, caller: Caller, dataset_id: str, data: ProspectiveRequest) -> ExplanationPublic:
    """How each offer of a dataset would judge a prospective request, term by term."""
    dataset = visible_dataset(session, caller, dataset_id)
    prospect = prospect_of(data)
    results = []
    for offer in offers_of(session, [dataset.id])[dataset.id]:
        passes, checks = explain(read_policy(offer.policy), prospect)
        results.append(OfferExplanation(offer_id=offer.id, passes=passes, checks=[check_public(c) for c in checks]))
    return ExplanationPublic(dataset_id=dataset.id, passes=any(r.passes for r in results), offers=results)


def check_public(check: Check) -> CheckPublic:
    """One term's judgement as the API shows it."""
    c = check.constraint
    return CheckPublic(
        rule=check.kind,
        action=check.action,
        left_operand=c.left if c else None,
        operator=c.operator if c else None,
        right_operand=c.right.wire if c else None,
        outcome=check.outcome,
        reason=check.reason,
    )
