"""pdr's closed ODRL profile: the only actions, left operands and operators an offer may use, and what they mean.

An offer names its terms by the short names below (as the Dataspace Protocol's examples do: ``use``, ``spatial``);
ODRL's own terms keep ODRL's meaning, the three of pdr's own are defined here. Anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A fixed IRI, like the problem types' (catalog/web/problems.py): every deployment speaks the same profile, and an
# offer stored by one never changes meaning when the service moves to another address.
PROFILE = "https://pdr.example/odrl/profile"
PDR_TERMS = PROFILE + "#"
ODRL = "http://www.w3.org/ns/odrl/2/"

USE_CATEGORIES = ("public_welfare", "industry")
# The national model contracts for public data (数据提供、委托处理、共同开发、中介服务).
MODEL_CONTRACTS = ("data_provision", "entrusted_processing", "joint_development", "intermediary_services")
CURRENCY = "CNY"

RULE_KINDS = ("permission", "prohibition", "obligation")


@dataclass(frozen=True)
class Operand:
    """One left operand: its IRI, the operators it takes, the type of its right operand, and its meaning."""

    name: str
    iri: str
    operators: tuple[str, ...]
    datatype: str
    meaning: str


def _odrl(name: str, operators: tuple[str, ...], datatype: str, meaning: str) -> Operand:
    return Operand(name, ODRL + name, operators, datatype, meaning)


def _pdr(name: str, operators: tuple[str, ...], datatype: str, meaning: str) -> Operand:
    return Operand(name, PDR_TERMS + name, operators, datatype, meaning)


OPERANDS: dict[str, Operand] = {
    o.name: o
    for o in (
        _odrl("purpose", ("eq", "isAnyOf"), "text", "the purpose the request states"),
        _pdr("scenario", ("eq", "isAnyOf"), "text", "the one application scenario the request is for"),
        _pdr(
            "useCategory", ("eq", "isAnyOf"), "use_category", "public_welfare (free) or industry (a fee under the cap)"
        ),
        _odrl(
            "dateTime", ("gteq", "lteq"), "date", "the requested period starts on or after / ends on or before a date"
        ),
        _odrl("elapsedTime", ("lteq",), "duration", "the requested period lasts at most an ISO 8601 duration"),
        _odrl("spatial", ("eq", "isPartOf", "isAnyOf"), "region", "where the data is used: GB/T 2260 region codes"),
        _odrl("count", ("lteq",), "count", "how many downloads or calls the request asks for"),
        _pdr("modelContract", ("eq",), "contract", "the national model contract the use is made under"),
        _odrl("delayPeriod", ("lteq",), "duration", "how long after the period the data may still be kept"),
        _odrl("payAmount", ("eq",), "amount", "the fee in CNY"),
    )
}

PERMISSION_OPERANDS: tuple[str, ...] = (
    "purpose",
    "scenario",
    "useCategory",
    "dateTime",
    "elapsedTime",
    "spatial",
    "count",
    "modelContract",
)
# rule kind -> action -> the left operands its constraints may use.
ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "permission": {"use": PERMISSION_OPERANDS},
    # Onward transfer and sub-licensing.
    "prohibition": {"distribute": (), "grantUse": ()},
    # Deletion at the end of the period; the fee of industry use.
    "obligation": {"delete": ("delayPeriod",), "compensate": ("payAmount",)},
}
OPERATORS = tuple(sorted({op for operand in OPERANDS.values() for op in operand.operators}))


def action_iri(action: str) -> str:
    """The IRI of an action of the profile (all of them are ODRL's own)."""
    return ODRL + action


def describe() -> dict[str, Any]:
    """The profile as a document: what a client may write in an offer."""
    return {
        "profile": PROFILE,
        "actions": {kind: sorted(actions) for kind, actions in ACTIONS.items()},
        "leftOperands": {
            o.name: {"iri": o.iri, "operators": list(o.operators), "rightOperand": o.datatype, "meaning": o.meaning}
            for o in OPERANDS.values()
        },
        "constraintsByAction": {action: list(ops) for actions in ACTIONS.values() for action, ops in actions.items()},
        "useCategories": list(USE_CATEGORIES),
        "modelContracts": list(MODEL_CONTRACTS),
        "currency": CURRENCY,
    }
