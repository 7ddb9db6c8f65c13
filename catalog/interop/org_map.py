"""The organisation map of an import (``--org-map FILE``): CKAN organisation names or titles to entity USCCs or ids.

A JSON object (``{"sthjj": "91440101MB2C92073X", "生态环境局": "..."}``), or a CSV file of two columns,
organisation and entity, with an optional header row ``organization,entity``; blank lines and lines starting
with ``#`` are skipped.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from catalog.interop.records import RecordError

HEADER = ("organization", "entity")


def read_org_map(path: Path) -> dict[str, str]:
    """The map a file holds; a RecordError that names the file and the line for anything it cannot read."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"--org-map {path}: cannot read it ({exc})") from exc
    found = _from_json(path, raw) if path.suffix.lower() == ".json" else _from_csv(path, raw)
    if not found:
        raise RecordError(f"--org-map {path}: it maps no organisation")
    return found


def _from_json(path: Path, raw: str) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RecordError(f"--org-map {path}: not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise RecordError(f"--org-map {path}: must be a JSON object of organisation names to entity USCCs or ids")
    return {name.strip(): target.strip() for name, target in data.items() if name.strip()}


def _from_csv(path: Path, raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, row in enumerate(csv.reader(raw.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and tuple(cell.lower() for cell in cells) == HEADER:
            continue
        if len(cells) != 2 or not all(cells):
            raise RecordError(f"--org-map {path}, line {number}: want two cells, organisation and entity")
        found[cells[0]] = cells[1]
    return found
