"""ODRL offers in pdr's closed profile: checked term by term when written, compiled once for fast evaluation.

An unknown property, action, left operand or operator, a right operand of the wrong type, or a term pdr's rules
forbid (a fee on public-welfare use, a fee over the cap, no model contract) refuses the whole offer with a 422 that
names each problem and where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.dataspace.profile import ACTIONS, CURRENCY, OPERANDS, OPERATORS, PROFILE, RULE_KINDS
from catalog.dataspace.values import PARSERS, BadValue, Parsed
from storage.exceptions import FieldProblem, InvalidInput

POLICY_KEYS = frozenset({"@type", "profile", *RULE_KINDS})
RULE_KEYS = frozenset({"action", "constraint"})
CONSTRAINT_KEYS = frozenset({"leftOperand", "operator", "rightOperand"})
MAX_RULES = 10
MAX_CONSTRAINTS = 20


@dataclass(frozen=True)
class Constraint:
    """One atomic constraint: a left operand, an operator and the right operand, read."""

    left: str
    operator: str
    right: Parsed

    def document(self) -> dict[str, Any]:
        """The constraint as ODRL JSON."""
        return {"leftOperand": self.left, "operator": self.operator, "rightOperand": self.right.wire}


@dataclass(frozen=True)
class Rule:
    """A permission, prohibition or obligation: its action and its constraints."""

    kind: str
    action: str
    constraints: tuple[Constraint, ...]

    def document(self) -> dict[str, Any]:
        """The rule as ODRL JSON."""
        out: dict[str, Any] = {"action": self.action}
        if self.constraints:
            out["constraint"] = [c.document() for c in self.constraints]
        return out


@dataclass(frozen=True)
class Policy:
    """A checked offer, ready to evaluate."""

    rules: tuple[Rule, ...]

    def document(self) -> dict[str, Any]:
        """The offer's terms as ODRL JSON (what is stored): the rule lists, each only when it has rules."""
        out: dict[str, Any] = {}
        for kind in RULE_KINDS:
            rules = [rule.document() for rule in self.rules if rule.kind == kind]
            if rules:
                out[kind] = rules
        return out

    def constraints(self, left: str) -> list[Constraint]:
        """Every constraint on one left operand, in any rule."""
        return [c for rule in self.rules for c in rule.constraints if c.left == left]


@dataclass
class _Reader:
    """Reads one offer, collecting every problem rather than stopping at the first."""

    problems: list[FieldProblem] = field(default_factory=list)

    def refuse(self, where: str, message: str) -> None:
        """Note one problem and where it is."""
        self.problems.append(FieldProblem(where, message))

    def keys(self, value: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        """Refuse every property the profile does not know."""
        for key in value:
            if key not in allowed:
                self.refuse(f"{where}.{key}" if where else key, f"unknown property {key!r} in the pdr profile")

    def policy(self, document: object) -> tuple[Rule, ...]:
        """The rules of a whole offer."""
        if not isinstance(document, Mapping):
            self.refuse("", "an offer is a JSON object")
            return ()
        self.keys(document, POLICY_KEYS, "")
        if document.get("@type", "Offer") != "Offer":
            self.refuse("@type", "must be Offer")
        self.profile(document.get("profile"))
        rules: list[Rule] = []
        for kind in RULE_KINDS:
            rules += self.rules(document.get(kind), kind)
        return tuple(rules)

    def profile(self, value: object) -> None:
        """Refuse any profile but pdr's (an offer naming none is read as pdr's)."""
        named = value if isinstance(value, list) else [value] if value is not None else [PROFILE]
        for item in named:
            if item != PROFILE:
                self.refuse("profile", f"unknown profile {item!r}; offers use {PROFILE}")

    def rules(self, value: object, kind: str) -> list[Rule]:
        """The rules of one kind: permissions, prohibitions or obligations."""
        if value is None:
            return []
        if not isinstance(value, list) or not value or len(value) > MAX_RULES:
            self.refuse(kind, f"must be a list of 1 to {MAX_RULES} rules")
            return []
        rules = [self.rule(item, kind, f"{kind}.{i}") for i, item in enumerate(value)]
        return [rule for rule in rules if rule is not None]

    def rule(self, value: object, kind: str, where: str) -> Rule | None:
        """One rule: an action the profile allows for its kind, and its constraints."""
        if not isinstance(value, Mapping):
            self.refuse(where, "a rule is a JSON object")
            return None
        self.keys(value, RULE_KEYS, where)
        action = value.get("action")
        allowed = ACTIONS[kind]
        if action not in allowed:
            self.refuse(
                f"{where}.action", f"unknown action {action!r} for a {kind}; the pdr profile allows {_list(allowed)}"
            )
            return None
        raw = value.get("constraint") or []
        if not isinstance(raw, list) or len(raw) > MAX_CONSTRAINTS:
            self.refuse(f"{where}.constraint", f"must be a list of at most {MAX_CONSTRAINTS} constraints")
            return None
        found = [self.constraint(item, allowed[action], f"{where}.constraint.{i}") for i, item in enumerate(raw)]
        return Rule(kind, str(action), tuple(c for c in found if c is not None))

    def constraint(self, value: object, operands: tuple[str, ...], where: str) -> Constraint | None:
        """One constraint: a left operand allowed on the rule, one of its operators, and a value of its type."""
        if not isinstance(value, Mapping):
            self.refuse(where, "a constraint is a JSON object with leftOperand, operator and rightOperand")
            return None
        self.keys(value, CONSTRAINT_KEYS, where)
        left, operator = value.get("leftOperand"), value.get("operator")
        if left not in OPERANDS:
            self.refuse(
                f"{where}.leftOperand", f"unknown left operand {left!r}; the pdr profile allows {_list(OPERANDS)}"
            )
            return None
        if left not in operands:
            self.refuse(f"{where}.leftOperand", f"left operand {left!r} is not allowed here; use {_list(operands)}")
            return None
        operand = OPERANDS[str(left)]
        if operator not in operand.operators:
            known = "" if operator in OPERATORS else "unknown "
            self.refuse(f"{where}.operator", f"{known}operator {operator!r} for {left}; use {_list(operand.operators)}")
            return None
        if "rightOperand" not in value:
            self.refuse(f"{where}.rightOperand", "is required")
            return None
        try:
            parsed = PARSERS[operand.datatype](value["rightOperand"], str(operator))
        except BadValue as error:
            self.refuse(f"{where}.rightOperand", f"{left}: {error}")
            return None
        return Constraint(operand.name, str(operator), parsed)


def _list(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "no constraints"


def _check_terms(rules: tuple[Rule, ...], fee_cap: Decimal | None, reader: _Reader) -> None:
    """pdr's rules over the whole offer: one permission, one model contract, fees only for industry under the cap."""
    permissions = [rule for rule in rules if rule.kind == "permission"]
    if len(permissions) != 1:
        reader.refuse("permission", "an offer has exactly one permission, to use the data")
        return
    policy = Policy(rules)
    if len(policy.constraints("modelContract")) != 1:
        reader.refuse("permission.0.constraint", "name the model contract once (leftOperand modelContract)")
    seen: set[tuple[str, str, str]] = set()
    for rule in rules:
        for c in rule.constraints:
            if (rule.action, c.left, c.operator) in seen:
                reader.refuse(f"{rule.kind}.constraint", f"{c.left} {c.operator} is said twice in one rule")
            seen.add((rule.action, c.left, c.operator))
    for kind in ("prohibition", "obligation"):
        actions = [rule.action for rule in rules if rule.kind == kind]
        if len(set(actions)) != len(actions):
            reader.refuse(kind, f"each {kind} action is named once")
    _check_period(policy, reader)
    _check_fee(policy, fee_cap, reader)


def _check_period(policy: Policy, reader: _Reader) -> None:
    bounds = {c.operator: c.right.value for c in policy.constraints("dateTime")}
    if "gteq" in bounds and "lteq" in bounds and bounds["lteq"] < bounds["gteq"]:
        reader.refuse("permission.0.constraint", "the period's last day (dateTime lteq) is before its first (gteq)")


def _check_fee(policy: Policy, fee_cap: Decimal | None, reader: _Reader) -> None:
    fees = [rule for rule in policy.rules if rule.action == "compensate"]
    if not fees:
        return
    amounts = [c for c in fees[0].constraints if c.left == "payAmount"]
    if len(amounts) != 1:
        reader.refuse("obligation", "a compensate obligation states its amount once (leftOperand payAmount)")
        return
    categories = policy.constraints("useCategory")
    if not categories or any(c.right.value != frozenset({"industry"}) for c in categories):
        reader.refuse("obligation", "a fee is charged for industry use only: restrict useCategory to industry")
    if fee_cap is not None and amounts[0].right.value > fee_cap:
        reader.refuse("obligation", f"the fee is over the cap of {fee_cap} {CURRENCY} for public-data products")


def read_policy(document: object, *, fee_cap: Decimal | None = None) -> Policy:
    """Check an offer against the profile and pdr's rules (a fee cap given when writing); InvalidInput if it fails."""
    reader = _Reader()
    rules = reader.policy(document)
    if not reader.problems:
        _check_terms(rules, fee_cap, reader)
    if reader.problems:
        first = reader.problems[0]
        where = f" at {first.field}" if first.field else ""
        raise InvalidInput(f"the offer breaks the pdr ODRL profile{where}: {first.message}", errors=reader.problems)
    return Policy(rules)
