"""`pdr verify`: read the bundle, trust and status list files, run the verifier, print each check and a verdict.

The exit codes (``registry.verifier.EXIT_*``) are the command's contract with scripts; its help and the README list
them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.verifier import (
    EXIT_BAD_INPUT,
    EXIT_REVOCATION_NOT_CHECKED,
    EXIT_STATUS_LIST_UNAVAILABLE,
    EXIT_VERIFIED,
    BadInput,
    Report,
    Trust,
    fetch_status_list,
    parse_at,
    verify_bundle,
)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read the {what} {path}: {exc.strerror}") from None
    except ValueError:
        raise BadInput(f"the {what} {path} is not JSON") from None


def _verdict(report: Report) -> str:
    """The last line `pdr verify` prints: what the exit code means for this bundle."""
    code = report.exit_code
    if code == EXIT_VERIFIED:
        return "verified"
    if code == EXIT_REVOCATION_NOT_CHECKED:
        return (
            "NOT VERIFIED: revocation was not checked (--offline). The proof, the log inclusion and the validity "
            f"passed, but this {report.kind} may have been revoked; run without --offline, or give --status-list FILE."
        )
    failures = [check for check in report.checks if check.ok is False]
    if code == EXIT_STATUS_LIST_UNAVAILABLE:
        return (
            f"verification failed: revocation could not be checked: {failures[0].detail}; "
            "retry when the registry is reachable, or give a saved list with --status-list FILE"
        )
    first = next(check for check in failures if not check.unavailable)
    return f"verification failed: {first.name}: {first.detail}"


def run_cli(
    bundle_path: Path,
    trust_path: Path,
    status_list_path: Path | None,
    online: bool,
    at_text: str | None,
    echo: Callable[[str], None],
) -> int:
    """`pdr verify`: print each check and a verdict; returns one of the EXIT_* codes."""
    try:
        bundle = _read_json(bundle_path, "bundle")
        trust = Trust.from_document(_read_json(trust_path, "trust file"))
        status = _read_json(status_list_path, "status list") if status_list_path else None
        if status is not None and not isinstance(status, dict):
            raise BadInput("the status list file is not a JSON object")
        # The command line is the one place that reads the wall clock; everything it calls takes the time given.
        at = parse_at(at_text, datetime.now(UTC))
    except BadInput as exc:
        echo(f"error: {exc}")
        return EXIT_BAD_INPUT
    report = verify_bundle(
        bundle, trust, at=at, status_list_credential=status, fetch=fetch_status_list if online else None
    )
    echo(f"{report.kind} {report.number or '(unknown number)'}")
    for check in report.checks:
        mark = {True: "ok     ", False: "FAILED ", None: "skipped"}[check.ok]
        echo(f"  {mark} {check.name}: {check.detail}")
    echo(_verdict(report))
    return report.exit_code
