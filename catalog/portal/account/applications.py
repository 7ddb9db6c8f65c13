"""Applying for conditional data from its page: the form's values, and filing them through the exchange's use case."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlmodel import Session

from auth.caller import Caller
from catalog.datasets.access import visible_dataset
from catalog.datasets.models import Dataset
from catalog.datasets.schemas import DatasetPublic
from catalog.datasets.views import present
from catalog.exchange.models import AccessRequest
from catalog.exchange.requests import create_request
from catalog.exchange.schemas import AccessRequestCreate
from registry.deadlines import china_date
from storage.db import now_of
from storage.exceptions import InvalidInput

# The period a new form suggests, from today.
SUGGESTED_DAYS = 90


@dataclass(frozen=True)
class ApplyForm:
    """What the application form holds, as the browser sent it."""

    purpose: str = ""
    scenario: str = ""
    use_category: str = "public_welfare"
    requested_from: str = ""
    requested_until: str = ""


def blank_form(session: Session) -> ApplyForm:
    """A new form: the period from today (Beijing) for the suggested number of days."""
    today = china_date(now_of(session))
    return ApplyForm(
        requested_from=today.isoformat(), requested_until=(today + timedelta(days=SUGGESTED_DAYS)).isoformat()
    )


def dataset_to_apply_for(session: Session, caller: Caller, dataset_id: str) -> DatasetPublic:
    """The dataset as its page shows it; 404 for one the caller may not see."""
    dataset: Dataset = visible_dataset(session, caller, dataset_id)
    return present(session, [dataset], detail=False, viewer=caller)[0]


def file_application(session: Session, caller: Caller, dataset_id: str, form: ApplyForm) -> AccessRequest | set[str]:
    """The filed request, or the names of the fields to correct; other refusals are raised as domain errors."""
    fields = {name: value.strip() for name, value in asdict(form).items()}
    try:
        body = AccessRequestCreate.model_validate({**fields, "dataset_id": dataset_id})
    except ValidationError as error:
        return {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
    try:
        return create_request(session, caller, body)
    except InvalidInput as error:
        if error.errors:
            return {problem.field for problem in error.errors}
        raise
