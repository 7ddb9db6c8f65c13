"""The entity's registrations as the console shows them: state, deadlines, what is missing, the steps allowed now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from auth.caller import Caller
from registry import registrations, workflow
from registry.config import RegistrySettings
from registry.enums import RegistrationState
from registry.models import DataProduct, DataResource, Registration, RegistrationStep
from storage.pagination import PageOf

ROWS = 50
# The steps a registrant takes from the console; the workflow decides which of them the state allows.
REGISTRANT_STEPS = ("submit", "withdraw")


@dataclass(frozen=True)
class RegistrationRow:
    """A registration, the name of what it registers, and the steps the caller may take now."""

    registration: Registration
    subject_name: str
    steps: list[str]
    history: list[RegistrationStep] = field(default_factory=list)

    @property
    def returned(self) -> RegistrationStep | None:
        """The newest return for supplement, whose reason and missing items the registrant answers."""
        found = [step for step in self.history if step.action == "return"]
        return found[-1] if found else None

    @property
    def missing_items(self) -> list[str]:
        """What the registry asked for: the registration's own list while returned, else the newest return's."""
        if self.registration.missing_items:
            return list(self.registration.missing_items)
        step = self.returned
        items: Any = step.details.get("missing_items", []) if step is not None else []
        return [str(item) for item in items] if isinstance(items, list) else []


def _names(session: Session, found: list[Registration]) -> dict[str, str]:
    """The names of the subjects of some registrations, in two queries."""
    resource_ids = [r.subject_id for r in found if r.subject_type == "resource"]
    product_ids = [r.subject_id for r in found if r.subject_type == "product"]
    names: dict[str, str] = {}
    if resource_ids:
        names |= dict(
            session.exec(select(DataResource.id, DataResource.name).where(col(DataResource.id).in_(resource_ids))).all()
        )
    if product_ids:
        names |= dict(
            session.exec(select(DataProduct.id, DataProduct.name).where(col(DataProduct.id).in_(product_ids))).all()
        )
    return names


def _steps(caller: Caller, registration: Registration) -> list[str]:
    """The registrant's steps the workflow allows this caller now."""
    return [step for step in workflow.steps_allowed_for(caller, registration) if step in REGISTRANT_STEPS]


@dataclass(frozen=True)
class RegistrationList:
    """A page of the entity's registrations."""

    rows: list[RegistrationRow]
    count: int
    next_cursor: str | None


def registration_list(
    session: Session, caller: Caller, state: RegistrationState | None, cursor: str | None
) -> RegistrationList:
    """The caller's entity's registrations, as GET /api/v1/registrations lists them, with names and steps."""
    page: PageOf[Registration] = registrations.list_registrations(
        session, caller, state=state, overdue=False, subject_id=None, limit=ROWS, cursor=cursor
    )
    found = list(page.items)
    names = _names(session, found)
    rows = [RegistrationRow(r, names.get(r.subject_id, r.subject_id), _steps(caller, r)) for r in found]
    return RegistrationList(rows, page.count, page.next_cursor)


def registration_detail(
    session: Session, caller: Caller, settings: RegistrySettings, registration_id: str
) -> RegistrationRow:
    """One registration, as GET /api/v1/registrations/{id} reads it, with its history."""
    registration = registrations.read_registration(session, caller, settings, registration_id)
    name = _names(session, [registration]).get(registration.subject_id, registration.subject_id)
    steps = registrations.history(session, registration.id)
    return RegistrationRow(registration, name, _steps(caller, registration), steps)
