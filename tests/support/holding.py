"""What a credential's holder keeps and checks offline: the bundle, the trust document and the status list saved in
a folder, `pdr verify` run on them, and the log entry a credential's signing appended."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from registry import verifier
from registry.models import LogEntry
from registry.verify_command import run_cli
from storage.db import session_scope


def holder_files(
    tmp_path: Path, client: TestClient, engine: Engine, settings: Settings, bundle: dict[str, Any]
) -> Path:
    """Save the bundle, the trust document and the current status list as a holder would; the folder."""
    with session_scope(engine) as session:
        trust = verifier.trust_document(session, settings)
    (tmp_path / "trust.json").write_text(json.dumps(trust), encoding="utf-8")
    listed = client.get("/status/certificates")
    assert listed.status_code == 200
    (tmp_path / "status.json").write_text(listed.text, encoding="utf-8")
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def verify_saved(folder: Path, at: str) -> tuple[int, str]:
    """`pdr verify` on the saved files at `at`, offline against the saved status list: exit code and output."""
    lines: list[str] = []
    code = run_cli(folder / "bundle.json", folder / "trust.json", folder / "status.json", False, at, echo=lines.append)
    return code, "\n".join(lines)


def log_entry(engine: Engine, index: int) -> dict[str, Any]:
    """The log entry at `index`, as the JSON it holds."""
    with session_scope(engine) as session:
        entry = session.get(LogEntry, index)
        assert entry is not None
        return dict(json.loads(entry.data))
