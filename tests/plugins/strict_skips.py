"""No unnoticed skips: with PDR_TEST_STRICT_SKIPS=1 (as `.ci/run` sets it) a skip fails unless the engine explains it.

A strict run accepts one kind of skip only: a PostgreSQL-only test (its reason names PostgreSQL) skipping in the
SQLite run. In the PostgreSQL run nothing may skip, so a test that skips because it did not find PostgreSQL fails,
and so does any skip for a missing browser, server or package, on either engine. Outside strict runs a skip stays
a skip, so the README's test command passes on a fresh machine.
"""

from __future__ import annotations

import re
from collections.abc import Generator

import pytest

from tests.support.env import POSTGRES_URL, STRICT_SKIPS

_NEEDS_POSTGRES = re.compile(r"\bPostgreSQL\b")


def _reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _unexpected(reason: str) -> bool:
    """Whether a strict run on this engine must fail on a skip with this reason."""
    return STRICT_SKIPS and (POSTGRES_URL is not None or not _NEEDS_POSTGRES.search(reason))


def _refusal(reason: str) -> str:
    engine = "PostgreSQL" if POSTGRES_URL else "SQLite"
    return f"skipped in a strict run on {engine} (PDR_TEST_STRICT_SKIPS=1), which accepts no such skip: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """Turn a test's unexpected skip (in setup, call or teardown) into a failure that names the reason."""
    report = yield
    assert isinstance(report, pytest.TestReport)
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _reason(report.longrepr)
        if _unexpected(reason):
            report.outcome = "failed"
            report.longrepr = _refusal(reason)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, object, object]:
    """Turn a whole module's unexpected skip (`pytest.importorskip`, a module-level skip) into a collection error."""
    report = yield
    assert isinstance(report, pytest.CollectReport)
    if report.skipped:
        reason = _reason(report.longrepr)
        if _unexpected(reason):
            report.outcome = "failed"
            report.longrepr = _refusal(reason)
    return report
