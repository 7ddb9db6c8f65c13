"""Evaluating an offer against a prospective request: each constraint passes or fails, each duty applies, and why.

Pure functions over a compiled `Policy`: no database, no clock. bench/policy.py measures them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from catalog.dataspace.policies import Constraint, Policy, Rule
from catalog.dataspace.values import Duration, normal

PASS = "pass"  # noqa: S105 - an outcome, not a password
FAIL = "fail"
APPLIES = "applies"


@dataclass(frozen=True)
class Prospect:
    """What a consumer means to ask for: the terms an access request would carry."""

    purpose: str
    scenario: str
    use_category: str
    start: date
    end: date
    region: str | None = None
    downloads: int | None = None
    model_contract: str | None = None
    onward_transfer: bool = False
    sublicensing: bool = False


@dataclass(frozen=True)
class Check:
    """One term of an offer read against the request: its outcome and the reason."""

    kind: str
    action: str
    constraint: Constraint | None
    outcome: str
    reason: str


def _verdict(ok: bool, reason: str) -> tuple[str, str]:
    return (PASS if ok else FAIL), reason


def _text(name: str, given: str, c: Constraint) -> tuple[str, str]:
    allowed = c.right.value
    if normal(given) in allowed:
        return PASS, f"the {name} {given!r} is one the offer allows"
    return FAIL, f"the {name} {given!r} is not among those the offer allows: {_shown(c)}"


def _shown(c: Constraint) -> str:
    return ", ".join(c.right.wire) if isinstance(c.right.wire, list) else c.right.wire


def _purpose(p: Prospect, c: Constraint) -> tuple[str, str]:
    return _text("purpose", p.purpose, c)


def _scenario(p: Prospect, c: Constraint) -> tuple[str, str]:
    return _text("scenario", p.scenario, c)


def _use_category(p: Prospect, c: Constraint) -> tuple[str, str]:
    ok = p.use_category in c.right.value
    return _verdict(ok, f"use for {p.use_category} is {'' if ok else 'not '}allowed (the offer allows {_shown(c)})")


def _date_time(p: Prospect, c: Constraint) -> tuple[str, str]:
    bound: date = c.right.value
    if c.operator == "gteq":
        return _verdict(p.start >= bound, f"the period starts on {p.start}; the offer allows use from {bound}")
    return _verdict(p.end <= bound, f"the period ends on {p.end}; the offer allows use until {bound}")


def _elapsed(p: Prospect, c: Constraint) -> tuple[str, str]:
    duration: Duration = c.right.value
    last = duration.after(p.start) - timedelta(days=1)
    return _verdict(
        p.end <= last, f"a period of at most {duration.text} from {p.start} ends by {last}; it ends {p.end}"
    )


def _spatial(p: Prospect, c: Constraint) -> tuple[str, str]:
    if p.region is None:
        return FAIL, f"the request names no region; the offer allows {_shown(c)}"
    if c.operator == "eq":
        ok = p.region == c.right.value[0]
    else:
        ok = any(p.region.startswith(prefix) for prefix in c.right.value)
    inside = "is" if ok else "is not"
    return _verdict(ok, f"region {p.region} {inside} within {_shown(c)}")


def _count(p: Prospect, c: Constraint) -> tuple[str, str]:
    if p.downloads is None:
        return FAIL, f"the request does not say how many downloads it needs; the offer allows at most {c.right.wire}"
    return _verdict(p.downloads <= c.right.value, f"{p.downloads} downloads asked, at most {c.right.wire} allowed")


def _contract(p: Prospect, c: Constraint) -> tuple[str, str]:
    if p.model_contract is None:
        return PASS, f"the use is made under the model contract for {c.right.wire}"
    ok = p.model_contract == c.right.value
    return _verdict(ok, f"the request expects {p.model_contract}; the offer is made under {c.right.wire}")


EVALUATORS: dict[str, Callable[[Prospect, Constraint], tuple[str, str]]] = {
    "purpose": _purpose,
    "scenario": _scenario,
    "useCategory": _use_category,
    "dateTime": _date_time,
    "elapsedTime": _elapsed,
    "spatial": _spatial,
    "count": _count,
    "modelContract": _contract,
}


def _prohibition(p: Prospect, rule: Rule) -> Check:
    if rule.action == "distribute":
        wanted, what = p.onward_transfer, "passing the data on to others (onward transfer)"
    else:
        wanted, what = p.sublicensing, "sub-licensing the data"
    if wanted:
        return Check(rule.kind, rule.action, None, FAIL, f"the request plans {what}, which the offer prohibits")
    return Check(rule.kind, rule.action, None, APPLIES, f"{what} is prohibited")


def _obligation(p: Prospect, rule: Rule) -> list[Check]:
    if rule.action == "compensate":
        amount = rule.constraints[0]
        return [Check(rule.kind, rule.action, amount, APPLIES, f"a fee of {amount.right.wire} CNY is due")]
    if not rule.constraints:
        return [
            Check(rule.kind, rule.action, None, APPLIES, f"the data must be deleted when the period ends ({p.end})")
        ]
    return [
        Check(rule.kind, rule.action, c, APPLIES, f"the data must be deleted within {c.right.wire} after {p.end}")
        for c in rule.constraints
    ]


def explain(policy: Policy, prospect: Prospect) -> tuple[bool, list[Check]]:
    """Whether the request would be within the offer, and each term's outcome with its reason."""
    checks: list[Check] = []
    for rule in policy.rules:
        if rule.kind == "permission":
            for c in rule.constraints:
                outcome, reason = EVALUATORS[c.left](prospect, c)
                checks.append(Check(rule.kind, rule.action, c, outcome, reason))
        elif rule.kind == "prohibition":
            checks.append(_prohibition(prospect, rule))
        else:
            checks.extend(_obligation(prospect, rule))
    return all(check.outcome != FAIL for check in checks), checks
