"""Who may see and act on registry records: the rules in one place, so every route applies the same."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from auth.roles import Role
from registry.models import Entity
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput


def is_member(caller: Caller, entity_id: str) -> bool:
    """Whether the caller is a provider account of this entity."""
    return caller.has_role(Role.provider) and caller.entity_id == entity_id


def may_read_private(caller: Caller, entity_id: str) -> bool:
    """Members of the entity and the registry's staff see unpublished records and contact details."""
    return caller.is_staff or is_member(caller, entity_id)


def acting_entity(session: Session, caller: Caller, requested: str | None, *, doing: str) -> Entity:
    """The entity a new record belongs to: a provider's own, or the one staff name (`doing` says what, for errors)."""
    if caller.has_role(Role.provider):
        if not caller.entity_id:
            raise Conflict("create your entity first", errors=[FieldProblem("entity_id", "the account has none")])
        if requested and requested != caller.entity_id:
            raise Forbidden("providers act only for their own entity")
        entity_id = caller.entity_id
    elif caller.is_staff:
        if not requested:
            raise InvalidInput("name the entity", errors=[FieldProblem("entity_id", "required for staff")])
        entity_id = requested
    else:
        raise Forbidden(f"only providers and the registry's staff {doing}")
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise InvalidInput("no such entity", errors=[FieldProblem("entity_id", "no such entity")])
    return entity
