"""Agreements: the ODRL Agreement a negotiation ends in, and the grant terms (period, quota, use) it fixes.

The agreement is kept whole in the negotiation, as JSON: the subject of its signed credential (agreement_credentials).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from catalog.dataspace.policies import Policy
from catalog.dataspace.profile import PROFILE
from storage.exceptions import Conflict

AGREEMENT_PREFIX = "urn:pdr:agreement:"
ENTITY_PREFIX = "urn:pdr:entity:"
ACCOUNT_PREFIX = "urn:pdr:account:"
MAX_TEXT = 2000


@dataclass(frozen=True)
class Terms:
    """What a grant made under an agreement holds: the use, the period (China calendar days) and the quota."""

    purpose: str
    scenario: str
    use_category: str
    start: date
    end: date
    quota: int | None


def participant(account_id: str, entity_id: str | None) -> str:
    """A consumer's identifier in the data space: its entity, or its account when it acts for none."""
    return ENTITY_PREFIX + entity_id if entity_id else ACCOUNT_PREFIX + account_id


def agreement_document(
    negotiation_id: str,
    policy: dict[str, Any],
    *,
    target: str,
    provider_entity_id: str,
    assignee: str,
    at: datetime,
) -> dict[str, Any]:
    """The ODRL Agreement: the final terms, the provider entity as assigner, the consumer as assignee."""
    return {
        "@id": AGREEMENT_PREFIX + negotiation_id,
        "@type": "Agreement",
        "profile": PROFILE,
        "target": target,
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "assigner": ENTITY_PREFIX + provider_entity_id,
        "assignee": assignee,
        **policy,
    }


def _values(policy: Policy, left: str) -> list[str]:
    found: list[str] = []
    for constraint in policy.constraints(left):
        wire = constraint.right.wire
        found += wire if isinstance(wire, list) else [wire]
    return found


def _text(values: list[str], fallback: str) -> str:
    return ("、".join(values) or fallback)[:MAX_TEXT]


def _period(policy: Policy, today: date) -> tuple[date, date | None]:
    """The first and last day the terms allow: dateTime bounds, elapsedTime counted from the first day."""
    bounds = {c.operator: c.right.value for c in policy.constraints("dateTime")}
    start: date = max(bounds.get("gteq", today), today)
    end: date | None = bounds.get("lteq")
    for constraint in policy.constraints("elapsedTime"):
        last = constraint.right.value.after(start) - timedelta(days=1)
        end = last if end is None else min(end, last)
    return start, end


def terms_of(policy: Policy, today: date, *, reference: str) -> Terms:
    """The grant terms an agreement on `policy` fixes from `today`; Conflict if they leave the grant undefined."""
    categories = _values(policy, "useCategory")
    problems = []
    if len(categories) != 1:
        problems.append("fix one use category (useCategory eq)")
    start, end = _period(policy, today)
    if end is None:
        problems.append("bound the period (dateTime lteq or elapsedTime lteq)")
    elif end < start:
        problems.append("leave a period that is not over (its last day is before today or its first day)")
    if problems:
        raise Conflict("the terms cannot be agreed as they stand: " + "; ".join(problems))
    assert end is not None
    quotas = [c.right.value for c in policy.constraints("count")]
    return Terms(
        purpose=_text(_values(policy, "purpose"), reference),
        scenario=_text(_values(policy, "scenario"), reference),
        use_category=categories[0],
        start=start,
        end=end,
        quota=min(quotas) if quotas else None,
    )


def free_welfare(policy: Policy) -> bool:
    """Whether the terms are for public-welfare use only and carry no fee."""
    fee = any(rule.action == "compensate" for rule in policy.rules)
    return not fee and _values(policy, "useCategory") == ["public_welfare"]


def fee_of(policy: Policy) -> Decimal | None:
    """The fee (CNY) the terms oblige the consumer to pay (a compensate duty's payAmount), or None if they are free."""
    for rule in policy.rules:
        if rule.action != "compensate":
            continue
        for constraint in rule.constraints:
            if constraint.left == "payAmount" and constraint.right.value > 0:
                amount: Decimal = constraint.right.value
                return amount
    return None
