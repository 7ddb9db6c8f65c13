"""The one SQLModel metadata that migrations and drift checks compare against."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# Every package's table module, imported lazily so that nothing loads at import time.
MODEL_MODULES = ("auth.models", "registry.models")


def target_metadata() -> MetaData:
    """Import every table module and return the shared metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return SQLModel.metadata
