"""Every table of pdr in one metadata: what the migrations must build, checked by the drift test."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import auth.models
import catalog.exchange_models
import catalog.models
import registry.models

# Imported for the tables they declare on SQLModel's shared metadata.
TABLE_MODULES = (auth.models, registry.models, catalog.models, catalog.exchange_models)


def metadata() -> MetaData:
    """The shared metadata, with every package's tables declared on it."""
    return SQLModel.metadata
