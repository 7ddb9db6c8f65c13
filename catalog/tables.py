"""Every table of pdr in one metadata: what the migrations must build, checked by the drift test."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import auth.models
import catalog.datasets.models
import catalog.dataspace.models
import catalog.exchange.models
import catalog.search.models
import registry.models

# Imported for the tables they declare on SQLModel's shared metadata.
TABLE_MODULES = (
    auth.models,
    registry.models,
    catalog.datasets.models,
    catalog.search.models,
    catalog.exchange.models,
    catalog.dataspace.models,
)


def metadata() -> MetaData:
    """The shared metadata, with every package's tables declared on it."""
    return SQLModel.metadata
