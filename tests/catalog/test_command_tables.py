"""Each `pdr` command imports only the tables it uses, yet every foreign key among them finds its table: SQLAlchemy
orders an insert by the tables its row refers to, and fails on one that was never declared."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import catalog.operations
from tests.support.imports import modules_after

COMMAND_MODULES = sorted(m.name for m in pkgutil.iter_modules(catalog.operations.__path__) if m.name != "common")
PROBE = """
import importlib, sys
from sqlmodel import SQLModel
importlib.import_module(sys.argv[1])
for table in SQLModel.metadata.tables.values():
    for key in table.foreign_keys:
        key.column
print(len(SQLModel.metadata.tables))
"""


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_every_foreign_key_of_a_commands_tables_resolves(name: str) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, f"catalog.operations.{name}"], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr[-2000:]


def test_creating_an_account_declares_no_table_it_does_not_use() -> None:
    loaded = modules_after("import catalog.operations.accounts")
    assert "registry.entity_table" in loaded
    assert "registry.models" not in loaded
    assert sorted(name for name in loaded if name.startswith("catalog.") and name.endswith(".models")) == []
