"""What a certificate request names, and whether it may have a certificate: a registered resource or product whose
latest completed registration it is, no cancellation under way, not core data, held by a verified entity.

The rows a check needs are loaded one request at a time, or for a whole batch in a handful of queries; the same
check then judges each request, so a batch refuses exactly what single issues refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

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


def _latest_statement(subject_ids: Sequence[str]) -> SelectOfScalar[Registration]:
    return (
        select(Registration)
        .where(
            col(Registration.subject_id).in_(subject_ids),
            Registration.state == RegistrationState.registered,
            Registration.type != RegistrationType.cancellation,
        )
        .order_by(col(Registration.registered_at).desc(), col(Registration.id).desc())
    )


def _cancellations_statement(subject_ids: Sequence[str]) -> Select[str, str]:
    return select(Registration.subject_id, Registration.id).where(
        col(Registration.subject_id).in_(subject_ids),
        Registration.type == RegistrationType.cancellation,
        col(Registration.state).not_in([s.value for s in FINAL_STATES]),
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
    ids = {kind: [r.subject_id for r in wanted if r.subject_type == kind] for kind in SubjectType}
    subjects: dict[str, Subject] = {}
    if ids[SubjectType.resource]:
        resources = select(DataResource).where(col(DataResource.id).in_(ids[SubjectType.resource]))
        subjects.update((row.id, row) for row in session.exec(resources))
    if ids[SubjectType.product]:
        products = select(DataProduct).where(col(DataProduct.id).in_(ids[SubjectType.product]))
        subjects.update((row.id, row) for row in session.exec(products))
    subject_ids = list(subjects)
    latest: dict[str, Registration] = {}
    cancellations: dict[str, str] = {}
    if subject_ids:
        for registration in session.exec(_latest_statement(subject_ids)):
            latest.setdefault(registration.subject_id, registration)
        cancellations = {subject_id: rid for subject_id, rid in session.exec(_cancellations_statement(subject_ids))}
    entity_ids = list({s.entity_id for s in subjects.values()})
    holders: dict[str, Entity] = {}
    if entity_ids:
        holders = {e.id: e for e in session.exec(select(Entity).where(col(Entity.id).in_(entity_ids)))}
    for rows in wanted:
        subject = subjects.get(rows.subject_id or "")
        if subject is None or (rows.subject_type == SubjectType.resource) != isinstance(subject, DataResource):
            continue
        rows.subject = subject
        rows.latest = latest.get(subject.id)
        rows.open_cancellation = cancellations.get(subject.id)
        rows.holder = holders.get(subject.entity_id)


def target(session: Session, data: CertificateRequest) -> Target:
    """The subject one request names, if it may have a certificate now; refused (422 or 409) otherwise."""
    [rows] = load_targets(session, [data])
    if not isinstance(rows, _Rows):
        raise rows
    return check(data, rows)
