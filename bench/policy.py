"""Offer evaluation per request: how fast an ODRL offer in pdr's profile judges a prospective request.

Times three things on the same full offer (nine constraints, two prohibitions, two duties): evaluating an offer
already read (`explain`), reading its stored JSON against the profile (`read_policy`), and both together, which is
what the explain endpoint does for each offer. No database, no HTTP. Prints JSON.

    python bench/policy.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from catalog.dataspace.explain import Prospect, explain
from catalog.dataspace.policies import read_policy

OFFER: dict[str, Any] = {
    "permission": [
        {
            "action": "use",
            "constraint": [
                {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["充电桩选址", "交通规划"]},
                {"leftOperand": "scenario", "operator": "eq", "rightOperand": "新能源汽车充电设施规划"},
                {"leftOperand": "useCategory", "operator": "eq", "rightOperand": "industry"},
                {"leftOperand": "dateTime", "operator": "gteq", "rightOperand": "2026-12-01"},
                {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31"},
                {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P1Y"},
                {"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": ["440100", "440300"]},
                {"leftOperand": "count", "operator": "lteq", "rightOperand": "100"},
                {"leftOperand": "modelContract", "operator": "eq", "rightOperand": "data_provision"},
            ],
        }
    ],
    "prohibition": [{"action": "distribute"}, {"action": "grantUse"}],
    "obligation": [
        {
            "action": "delete",
            "constraint": [{"leftOperand": "delayPeriod", "operator": "lteq", "rightOperand": "P30D"}],
        },
        {
            "action": "compensate",
            "constraint": [{"leftOperand": "payAmount", "operator": "eq", "rightOperand": "500.00"}],
        },
    ],
}
REQUEST = Prospect(
    purpose="充电桩选址",
    scenario="新能源汽车充电设施规划",
    use_category="industry",
    start=date(2027, 1, 1),
    end=date(2027, 6, 30),
    region="440106",
    downloads=50,
)


def _rate(work: Callable[[], object], seconds: float) -> dict[str, float]:
    """Calls per second of `work` over about `seconds`, and the mean time of one call in microseconds."""
    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(1000):
            work()
        calls += 1000
        now = time.perf_counter()
        if now >= deadline:
            break
    elapsed = now - started
    return {"per_second": round(calls / elapsed), "mean_us": round(elapsed / calls * 1e6, 2)}


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each measurement")
    args = parser.parse_args()
    policy = read_policy(OFFER)
    passes, checks = explain(policy, REQUEST)
    assert passes and len(checks) == 13, "the bench's request must be within the bench's offer"
    figures = {
        "python": platform.python_version(),
        "terms_per_offer": len(checks),
        "evaluate": _rate(lambda: explain(policy, REQUEST), args.seconds),
        "read": _rate(lambda: read_policy(OFFER), args.seconds),
        "read_and_evaluate": _rate(lambda: explain(read_policy(OFFER), REQUEST), args.seconds),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
