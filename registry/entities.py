"""Use cases for registrant entities: create, read, search, verify and suspend."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.models import Account
from auth.roles import Role
from registry import events, participant_credentials, status_list
from registry.access import may_read_private
from registry.enums import EntityStatus
from registry.models import Entity
from registry.participant_credentials import ParticipantTerms
from registry.schemas import EntityCreate
from registry.uscc import region_code, validate_uscc
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, NotFound
from storage.pagination import PageOf, paginate_by_id


def _duplicate(uscc: str) -> Conflict:
    return Conflict(
        f"an entity with the code {uscc} is already registered",
        errors=[FieldProblem("uscc", "already registered")],
    )


def create_entity(session: Session, caller: Caller, data: EntityCreate) -> Entity:
    """A provider registers its own entity (and becomes its member), or staff register one."""
    if not (caller.is_staff or caller.has_role(Role.provider)):
        raise Forbidden("only providers and the registry's staff create entities")
    if caller.has_role(Role.provider) and caller.entity_id:
        raise Conflict("this account already acts for an entity", errors=[FieldProblem("entity", "already set")])
    uscc = validate_uscc(data.uscc)
    if session.exec(select(Entity.id).where(Entity.uscc == uscc)).first() is not None:
        raise _duplicate(uscc)
    now = now_of(session)
    entity = Entity(
        **data.model_dump(exclude={"uscc", "contact_email"}),
        contact_email=str(data.contact_email) if data.contact_email else None,
        uscc=uscc,
        region_code=region_code(uscc),
        status=EntityStatus.pending,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    try:
        session.add(entity)
        session.flush()
        if caller.has_role(Role.provider):
            account = session.get(Account, caller.account_id)
            assert account is not None
            account.entity_id = entity.id
            session.add(account)
        audit.record(session, caller, "entity.create", f"entity:{entity.id}")
        session.commit()
    except IntegrityError as exc:  # a concurrent registration of the same code won the race
        session.rollback()
        raise _duplicate(uscc) from exc
    return entity


def get_entity(session: Session, entity_id: str) -> Entity:
    """An entity by id, or 404."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound("no such entity")
    return entity


def search_entities(
    session: Session, caller: Caller, *, q: str | None, status: EntityStatus | None, limit: int, cursor: str | None
) -> PageOf[Entity]:
    """Entities by name or code; anonymous and ordinary callers see verified entities only."""
    statement = select(Entity)
    if caller.is_staff:
        if status is not None:
            statement = statement.where(Entity.status == status)
    else:
        statement = statement.where(Entity.status == EntityStatus.verified)
    if q:
        # Escape LIKE's wildcards so that "%" and "_" in a query match themselves.
        literal = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        name_matches = col(Entity.name).ilike(f"%{literal}%", escape="\\")
        statement = statement.where(or_(name_matches, col(Entity.uscc) == q.strip().upper()))
    return paginate_by_id(session, statement, Entity.id, limit=limit, cursor=cursor)


def visible_entity(session: Session, caller: Caller, entity_id: str) -> tuple[Entity, bool]:
    """An entity the caller may see, and whether its private details are shown too."""
    entity = get_entity(session, entity_id)
    private = may_read_private(caller, entity.id)
    if entity.status != EntityStatus.verified and not private:
        raise NotFound("no such entity")
    return entity, private


def set_status(
    session: Session,
    caller: Caller,
    entity_id: str,
    status: EntityStatus,
    reason: str | None,
    *,
    participants: ParticipantTerms,
) -> Entity:
    """Staff verify or suspend an entity; the change is a public registry event. Verifying issues the entity a
    participant credential on the terms given; suspending revokes the one it holds."""
    if not caller.is_staff:
        raise Forbidden("only the registry's staff verify or suspend entities")
    # The log's lock before the entity is read: of two concurrent changes of one entity the second sees the first,
    # so one verification issues one credential.
    status_list.lock(session)
    entity = get_entity(session, entity_id)
    if status == EntityStatus.suspended and not reason:
        raise Conflict("a suspension states its reason", errors=[FieldProblem("reason", "required")])
    if entity.status == status:
        raise Conflict(f"the entity is already {status.value}")
    entity.status = status
    entity.status_reason = reason
    entity.updated_at = now_of(session)
    session.add(entity)
    kind = "entity.verified" if status == EntityStatus.verified else "entity.suspended"
    events.emit(
        session, kind, f"entity:{entity.id}", {"entity_id": entity.id, "uscc": entity.uscc, "name": entity.name}
    )
    if status == EntityStatus.verified:
        participant_credentials.issue(session, caller, entity, participants)
    elif status == EntityStatus.suspended:
        participant_credentials.revoke(session, caller, entity.id)
    audit.record(session, caller, kind, f"entity:{entity.id}")
    session.commit()
    return entity
