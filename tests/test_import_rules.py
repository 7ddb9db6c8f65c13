"""The import rules of pyproject.toml, run by `lint-imports` as .ci/run does: kept by the code, caught when broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("storage", "auth", "registry", "catalog")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports over the packages under tree, with the project's contracts."""
    command = Path(sys.executable).with_name("lint-imports")
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(command), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages that a test may break."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + "\n" + line + "\n")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("storage/ids.py", "import registry.models  # noqa", "Packages import one way"),
        ("auth/service.py", "import catalog.app  # noqa", "Packages import one way"),
        ("catalog/search/index.py", "import catalog.datasets.models  # noqa", "sub-packages import one way"),
        ("catalog/datasets/models.py", "import catalog.datasets.service  # noqa", "No import cycles"),
        ("catalog/exchange/grants.py", "import fastapi  # noqa", "Only the web layer imports FastAPI"),
        ("registry/registrations.py", "from starlette import status  # noqa", "Only the web layer imports FastAPI"),
    ],
)
def test_an_import_against_the_rules_fails_the_check(tree: Path, module: str, line: str, contract: str) -> None:
    _append(tree / module, line)
    result = _lint_imports(tree)
    assert result.returncode != 0
    assert contract in result.stdout
    assert "BROKEN" in result.stdout
