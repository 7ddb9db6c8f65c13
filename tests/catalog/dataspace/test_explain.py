"""An offer judges a prospective request term by term: each constraint passes or fails with its reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from catalog.dataspace.explain import APPLIES, FAIL, PASS, Prospect, explain
from catalog.dataspace.policies import read_policy
from tests.support.dataspace import offer_body, welfare_offer_body

WITHIN = Prospect(
    purpose=" 充电桩选址 ",
    scenario="新能源汽车充电设施规划",
    use_category="industry",
    start=date(2027, 1, 1),
    end=date(2027, 6, 30),
    region="440106",
    downloads=100,
)


def _outcomes(prospect: Prospect) -> dict[tuple[str, str | None, str | None], tuple[str, str]]:
    passes, checks = explain(read_policy(offer_body()), prospect)
    outcomes = {
        (c.action, c.constraint.left if c.constraint else None, c.constraint.operator if c.constraint else None): (
            c.outcome,
            c.reason,
        )
        for c in checks
    }
    assert passes == all(outcome != FAIL for outcome, _ in outcomes.values())
    return outcomes


def test_a_request_within_every_term_passes_and_the_duties_apply() -> None:
    outcomes = _outcomes(WITHIN)
    assert {o for (action, _, _), (o, _) in outcomes.items() if action == "use"} == {PASS}
    assert outcomes[("distribute", None, None)] == (
        APPLIES,
        "passing the data on to others (onward transfer) is prohibited",
    )
    assert outcomes[("compensate", "payAmount", "eq")] == (APPLIES, "a fee of 500.00 CNY is due")
    assert outcomes[("delete", "delayPeriod", "lteq")][1] == "the data must be deleted within P30D after 2027-06-30"
    assert outcomes[("use", "modelContract", "eq")][1] == "the use is made under the model contract for data_provision"


def test_each_constraint_fails_alone_and_says_why() -> None:
    cases = {
        ("purpose", "isAnyOf"): (replace(WITHIN, purpose="广告投放"), "'广告投放' is not among those the offer allows"),
        ("scenario", "eq"): (
            replace(WITHIN, scenario="其他"),
            "not among those the offer allows: 新能源汽车充电设施规划",
        ),
        ("useCategory", "eq"): (replace(WITHIN, use_category="public_welfare"), "public_welfare is not allowed"),
        ("dateTime", "gteq"): (replace(WITHIN, start=date(2026, 11, 30)), "the offer allows use from 2026-12-01"),
        ("dateTime", "lteq"): (replace(WITHIN, start=date(2027, 6, 1), end=date(2028, 1, 1)), "until 2027-12-31"),
        ("spatial", "isPartOf"): (replace(WITHIN, region="440300"), "region 440300 is not within 440100"),
        ("count", "lteq"): (replace(WITHIN, downloads=101), "101 downloads asked, at most 100 allowed"),
        ("modelContract", "eq"): (replace(WITHIN, model_contract="joint_development"), "made under data_provision"),
    }
    for (left, operator), (prospect, words) in cases.items():
        outcomes = _outcomes(prospect)
        failed = {key for key, (outcome, _) in outcomes.items() if outcome == FAIL}
        assert failed == {("use", left, operator)}, (left, failed)
        assert words in outcomes[("use", left, operator)][1]


def test_a_period_longer_than_the_duration_fails() -> None:
    long = replace(WITHIN, start=date(2026, 12, 31), end=date(2027, 12, 31))
    outcome, reason = _outcomes(long)[("use", "elapsedTime", "lteq")]
    assert (outcome, reason) == (FAIL, "a period of at most P1Y from 2026-12-31 ends by 2027-12-30; it ends 2027-12-31")


def test_missing_answers_fail_and_planned_onward_use_meets_the_prohibitions() -> None:
    outcomes = _outcomes(replace(WITHIN, region=None, downloads=None, onward_transfer=True, sublicensing=True))
    assert outcomes[("use", "spatial", "isPartOf")][0] == FAIL
    assert "names no region" in outcomes[("use", "spatial", "isPartOf")][1]
    assert "does not say how many downloads" in outcomes[("use", "count", "lteq")][1]
    assert outcomes[("distribute", None, None)][0] == FAIL
    assert outcomes[("grantUse", None, None)] == (
        FAIL,
        "the request plans sub-licensing the data, which the offer prohibits",
    )


def test_a_welfare_offer_is_free_and_asks_deletion_at_the_end() -> None:
    passes, checks = explain(read_policy(welfare_offer_body()), replace(WITHIN, use_category="public_welfare"))
    assert passes
    assert [(c.action, c.outcome) for c in checks] == [("use", PASS), ("use", PASS), ("delete", APPLIES)]
    assert checks[2].reason == "the data must be deleted when the period ends (2027-06-30)"


def test_regions_inside_a_province_and_exact_regions() -> None:
    body = welfare_offer_body()
    body["permission"][0]["constraint"].append(
        {"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": ["440000", "350100"]}
    )
    policy = read_policy(body)
    prospect = replace(WITHIN, use_category="public_welfare")
    assert explain(policy, replace(prospect, region="441900"))[0]
    assert explain(policy, replace(prospect, region="350102"))[0]
    assert not explain(policy, replace(prospect, region="350200"))[0]
    body["permission"][0]["constraint"][-1] = {"leftOperand": "spatial", "operator": "eq", "rightOperand": "440100"}
    assert not explain(read_policy(body), replace(prospect, region="440106"))[0]
    assert explain(read_policy(body), replace(prospect, region="440100"))[0]
