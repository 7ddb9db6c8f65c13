"""What a certificate request names, and whether it may have a certificate: a registered resource or product whose
latest completed registration it is, no cancellation under way, not core data, held by a verified entity.

The rows a check needs are loaded the same way for one request and for a whole batch: the registrations named, then
each subject with its latest completed registration, its holder and any open cancellation in one query per kind of
subject. The same check then judges each request, so a batch refuses exactly what single issues refuse.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from registry.enums import (
    FINAL_STATES,
    EntityStatus,
    RegistrationState,
    RegistrationType,
    SecurityLevel,
    SubjectStatus,
    SubjectType,
)
from registry.models import DataProduct, DataResource, Entity, Registration
from registry.schemas import CertificateRequest
from registry.subjects import Subject
from storage.exceptions import Conflict, FieldProblem, InvalidInput

ID_FIELDS = ("registration_id", "resource_id", "product_id")


@dataclass(frozen=True)
class Target:
    """A certificate's subject: the registration it follows, the subject, its type, and its holder."""

    registration: Registration
    subject: Subject
    subject_type: SubjectType
    holder: Entity


@dataclass
class _Rows:
    """The rows one request's check reads."""

    named: Registration | None = None
    subject_type: SubjectType | None = None
    subject_id: str | None = None
    subject: Subject | None = None
    latest: Registration | None = None
    open_cancellation: str | None = None
    holder: Entity | None = None


def _named_subject(data: CertificateRequest, named: Registration | None, rows: _Rows) -> None:
    """Which subject a request names: through its registration, or directly."""
    given = [name for name in ID_FIELDS if getattr(data, name)]
    if len(given) != 1:
        raise InvalidInput(
            "name exactly one of registration_id, resource_id and product_id",
            errors=[FieldProblem(name, "exactly one") for name in ID_FIELDS],
        )
    if data.registration_id:
        if named is None:
            raise InvalidInput("no such registration", errors=[FieldProblem("registration_id", "no such registration")])
        if named.state != RegistrationState.registered or named.type == RegistrationType.cancellation:
            raise Conflict(f"the registration is {named.state}; certificates follow a completed registration")
        rows.named, rows.subject_type, rows.subject_id = named, SubjectType(named.subject_type), named.subject_id
    else:
        rows.subject_type = SubjectType.resource if data.resource_id else SubjectType.product
        rows.subject_id = str(data.resource_id or data.product_id)


def check(data: CertificateRequest, rows: _Rows) -> Target:
    """Judge a request on its loaded rows; the refusals single and batch issues share."""
    subject_type, subject = rows.subject_type, rows.subject
    assert subject_type is not None
    if subject is None:
        field = "registration_id" if data.registration_id else f"{subject_type.value}_id"
        raise InvalidInput(f"no such {subject_type.value}", errors=[FieldProblem(field, "not found")])
    if subject.status != SubjectStatus.registered:
        raise Conflict(f"the {subject_type.value} is {subject.status}; only a registered one gets a certificate")
    if rows.latest is None:
        raise Conflict(f"the {subject_type.value} has no completed registration")
    if data.registration_id and rows.latest.id != data.registration_id:
        raise Conflict(f"the registration was superseded by {rows.latest.code}; issue on the latest one")
    if rows.open_cancellation is not None:
        raise Conflict(f"a cancellation of the {subject_type.value} is under way ({rows.open_cancellation})")
    if subject.security_level == SecurityLevel.core:
        raise Conflict("core data (GB/T 43697-2024 security level core) can't get property rights")
    holder = rows.holder
    assert holder is not None
    if holder.status != EntityStatus.verified:
        raise Conflict(f"the holder entity is {holder.status}; certificates go to verified entities only")
    return Target(rows.latest, subject, subject_type, holder)


def _first_registration_id(
    model: type[Subject], conditions: Callable[[Any], tuple[Any, ...]], *, newest_first: bool = False
) -> Any:
    """The id of one registration of the outer query's subject meeting `conditions` (given the registration table's
    alias), the most recently registered when `newest_first`, as a correlated scalar subquery."""
    registration = aliased(Registration)
    chosen = select(registration.id).where(registration.subject_id == model.id, *conditions(registration))
    if newest_first:
        chosen = chosen.order_by(col(registration.registered_at).desc(), col(registration.id).desc())
    return chosen.limit(1).correlate(model).scalar_subquery()


@functools.cache
def _subjects_statement(model: type[Subject]) -> Select[*tuple[Any, ...]]:
    """Subjects by the ids bound to `ids`, each with its latest completed registration (not a cancellation), its
    holder and the id of an open cancellation of it: everything a check reads, in one query. Built once per model:
    building it costs more than running it."""
    latest_id = _first_registration_id(
        model,
        lambda r: (r.state == RegistrationState.registered, r.type != RegistrationType.cancellation),
        newest_first=True,
    )
    open_cancellation = _first_registration_id(
        model,
        lambda r: (r.type == RegistrationType.cancellation, col(r.state).not_in([s.value for s in FINAL_STATES])),
    )
    return (
        select(model, Registration, Entity, open_cancellation)
        .select_from(model)
        .outerjoin(Registration, col(Registration.id) == latest_id)
        .outerjoin(Entity, col(Entity.id) == model.entity_id)
        .where(col(model.id).in_(bindparam("ids", expanding=True)))
    )


def load_targets(session: Session, requests: Sequence[CertificateRequest]) -> list[_Rows | InvalidInput | Conflict]:
    """The rows each request's check reads, for all of them in a few queries; a request already refused by what
    it names (no id, two ids, an unknown or unfinished registration) carries its refusal instead."""
    named_ids = [r.registration_id for r in requests if r.registration_id]
    named: dict[str, Registration] = {}
    if named_ids:
        named = {r.id: r for r in session.exec(select(Registration).where(col(Registration.id).in_(named_ids)))}
    loaded: list[_Rows | InvalidInput | Conflict] = []
    for data in requests:
        rows = _Rows()
        try:
            _named_subject(data, named.get(data.registration_id or ""), rows)
        except (InvalidInput, Conflict) as refusal:
            loaded.append(refusal)
            continue
        loaded.append(rows)
    wanted = [rows for rows in loaded if isinstance(rows, _Rows)]
    _fill(session, wanted)
    return loaded


def _fill(session: Session, wanted: list[_Rows]) -> None:
    """Load the subjects, latest registrations, open cancellations and holders of many requests at once."""
    found: dict[tuple[SubjectType | None, str | None], Row[*tuple[Any, ...]]] = {}
    for subject_type, model in ((SubjectType.resource, DataResource), (SubjectType.product, DataProduct)):
        ids = list(dict.fromkeys(r.subject_id for r in wanted if r.subject_type == subject_type and r.subject_id))
        if ids:
            rows_found = session.execute(_subjects_statement(model), {"ids": ids})
            found.update(((subject_type, row[0].id), row) for row in rows_found)
    for rows in wanted:
        row = found.get((rows.subject_type, rows.subject_id))
        if row is not None:
            rows.subject, rows.latest, rows.holder, rows.open_cancellation = row


def target(session: Session, data: CertificateRequest) -> Target:
    """The subject one request names, if it may have a certificate now; refused (422 or 409) otherwise."""
    [rows] = load_targets(session, [data])
    if not isinstance(rows, _Rows):
        raise rows
    return check(data, rows)
