"""Offers are checked against pdr's closed ODRL profile: each kind of unknown or forbidden term is refused by name."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from catalog.dataspace.policies import read_policy
from catalog.dataspace.profile import ACTIONS, MODEL_CONTRACTS, OPERANDS, PROFILE, describe
from catalog.dataspace.schemas import ModelContract
from storage.exceptions import InvalidInput
from tests.support.dataspace import offer_body, welfare_offer_body

CAP = Decimal("10000.00")


def _refusal(document: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        read_policy(document, fee_cap=CAP)
    return caught.value


def _with_constraint(constraint: dict[str, Any]) -> dict[str, Any]:
    body = offer_body()
    body["permission"][0]["constraint"].append(constraint)
    return body


def test_a_full_offer_is_read_and_written_back_in_normal_form() -> None:
    policy = read_policy(offer_body(), fee_cap=CAP)
    written = policy.document()
    constraints = {(c["leftOperand"], c["operator"]): c["rightOperand"] for c in written["permission"][0]["constraint"]}
    assert constraints[("count", "lteq")] == "100"  # the protocol's right operands are strings
    assert constraints[("purpose", "isAnyOf")] == ["充电桩选址", "交通规划"]
    assert written["obligation"][1]["constraint"][0]["rightOperand"] == "500.00"
    assert [r["action"] for r in written["prohibition"]] == ["distribute", "grantUse"]
    # What is written reads back to the same terms.
    assert read_policy(written).document() == written
    assert read_policy(welfare_offer_body(), fee_cap=CAP).document() == welfare_offer_body()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda b: b["permission"][0].update(action="sell"), "permission.0.action", "unknown action 'sell'"),
        (lambda b: b["prohibition"].append({"action": "use"}), "prohibition.2.action", "unknown action 'use'"),
        (lambda b: b.update(target="urn:x"), "target", "unknown property 'target'"),
        (lambda b: b["permission"][0].update(duty=[]), "permission.0.duty", "unknown property 'duty'"),
        (lambda b: b.update(profile="https://example.org/other"), "profile", "unknown profile"),
        (lambda b: b.update({"@type": "Agreement"}), "@type", "must be Offer"),
    ],
)
def test_unknown_properties_actions_and_profiles_are_refused_by_name(change: Any, field: str, words: str) -> None:
    body = offer_body()
    change(body)
    error = _refusal(body)
    assert field in [e.field for e in error.errors]
    assert any(words in e.message for e in error.errors), error.errors
    assert words in error.detail or field in error.detail


@pytest.mark.parametrize(
    ("constraint", "words"),
    [
        ({"leftOperand": "industry", "operator": "eq", "rightOperand": "x"}, "unknown left operand 'industry'"),
        ({"leftOperand": "payAmount", "operator": "eq", "rightOperand": "1"}, "'payAmount' is not allowed here"),
        ({"leftOperand": "purpose", "operator": "like", "rightOperand": "x"}, "unknown operator 'like'"),
        ({"leftOperand": "count", "operator": "gt", "rightOperand": "5"}, "operator 'gt' for count"),
        ({"leftOperand": "spatial", "operator": "eq", "rightOperand": "Guangzhou"}, "6-digit GB/T 2260"),
        ({"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "1 year"}, "ISO 8601 duration"),
        ({"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-02-30"}, "YYYY-MM-DD"),
        ({"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": "x"}, "non-empty list"),
        ({"leftOperand": "count", "operator": "lteq", "rightOperand": 0}, "whole number from 1"),
        ({"leftOperand": "useCategory", "operator": "eq", "rightOperand": "military"}, "'military' is not one of"),
    ],
)
def test_unknown_or_wrong_operands_operators_and_values_are_refused_by_name(
    constraint: dict[str, Any], words: str
) -> None:
    error = _refusal(_with_constraint(constraint))
    assert any(words in e.message for e in error.errors), error.errors
    assert all(e.field.startswith("permission.0.constraint.9") for e in error.errors)


def test_every_problem_of_an_offer_is_listed() -> None:
    body = _with_constraint({"leftOperand": "colour", "operator": "eq", "rightOperand": "red"})
    body["permission"][0]["action"] = "use"
    body["prohibition"] = [{"action": "resell"}]
    error = _refusal(body)
    assert {e.field for e in error.errors} == {"permission.0.constraint.9.leftOperand", "prohibition.0.action"}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda b: b["permission"][0]["constraint"].pop(8), "name the model contract once"),
        (lambda b: b["permission"][0]["constraint"].__setitem__(2, _welfare()), "for industry use only"),
        (lambda b: b["obligation"][1]["constraint"][0].update(rightOperand="10000.01"), "over the cap of 10000.00"),
        (lambda b: b["obligation"][1]["constraint"][0].update(rightOperand="0"), "above 0"),
        (lambda b: b["permission"][0]["constraint"][3].update(rightOperand="2028-01-01"), "before its first"),
        (lambda b: b["permission"].append(copy.deepcopy(b["permission"][0])), "exactly one permission"),
        (lambda b: b["prohibition"].append({"action": "distribute"}), "named once"),
        (lambda b: b["obligation"][1].pop("constraint"), "states its amount once"),
    ],
)
def test_pdr_rules_over_the_whole_offer(change: Any, words: str) -> None:
    body = offer_body()
    change(body)
    error = _refusal(body)
    assert any(words in e.message for e in error.errors), error.errors


def _welfare() -> dict[str, Any]:
    return {"leftOperand": "useCategory", "operator": "isAnyOf", "rightOperand": ["public_welfare", "industry"]}


def test_odd_shapes_are_refused_not_crashed_on() -> None:
    for document in ([], "offer", {"permission": "use"}, {"permission": [1]}, {"permission": [{"constraint": 3}]}):
        assert _refusal(document).errors


def test_the_profile_document_lists_every_term() -> None:
    profile = describe()
    assert profile["profile"] == PROFILE
    assert set(profile["leftOperands"]) == set(OPERANDS)
    assert profile["actions"] == {kind: sorted(actions) for kind, actions in ACTIONS.items()}
    assert tuple(m.value for m in ModelContract) == MODEL_CONTRACTS
