"""HTTP routes of registrant entities: register, search, read, verify and suspend, and their participant credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from auth.dependencies import AnyCaller, Cursor, DbSession, Limit, SignedIn, Staff
from registry import entities, participant_credentials
from registry.dependencies import RegistryConfig
from registry.enums import EntityStatus
from registry.models import Entity
from registry.schemas import EntityCreate, EntityDetail, EntityPublic, EntityStatusChange, ParticipantBundle
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["registry"])


def _entity_view(entity: Entity, private: bool) -> EntityPublic:
    return EntityDetail.model_validate(entity) if private else EntityPublic.model_validate(entity)


@router.post("/entities", response_model=EntityDetail, status_code=status.HTTP_201_CREATED)
def create_entity(body: EntityCreate, caller: SignedIn, session: DbSession) -> EntityDetail:
    """Register an entity (pending until the registry verifies it)."""
    return EntityDetail.model_validate(entities.create_entity(session, caller, body))


@router.get("/entities", response_model=Page[EntityPublic])
def search_entities(
    caller: AnyCaller,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: EntityStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EntityPublic]:
    """Entities by name or code; staff may filter by status, others see verified entities."""
    page = entities.search_entities(session, caller, q=q, status=status, limit=limit, cursor=cursor)
    return Page[EntityPublic].model_validate(page, from_attributes=True)


@router.get("/entities/{entity_id}", response_model=EntityDetail | EntityPublic)
def read_entity(entity_id: str, caller: AnyCaller, session: DbSession) -> EntityPublic:
    """An entity; contact details only for its members and the staff."""
    entity, private = entities.visible_entity(session, caller, entity_id)
    return _entity_view(entity, private)


@router.get("/entities/{entity_id}/participant-credential", response_model=ParticipantBundle)
def read_participant_credential(entity_id: str, session: DbSession) -> ParticipantBundle:
    """An entity's latest data space participant credential, its log proof and its status, for anyone to verify."""
    row = participant_credentials.latest_credential(session, entity_id)
    return ParticipantBundle.model_validate(participant_credentials.bundle(session, row))


@router.post("/entities/{entity_id}/verify", response_model=EntityDetail)
def verify_entity(
    entity_id: str,
    caller: Staff,
    session: DbSession,
    settings: RegistryConfig,
    request: Request,
    body: EntityStatusChange | None = None,
) -> EntityDetail:
    """The registry verifies an entity and issues it a participant credential."""
    reason = body.reason if body else None
    terms = participant_credentials.terms_of(settings, str(request.app.state.settings.base_url))
    verified = entities.set_status(session, caller, entity_id, EntityStatus.verified, reason, participants=terms)
    return EntityDetail.model_validate(verified)


@router.post("/entities/{entity_id}/suspend", response_model=EntityDetail)
def suspend_entity(
    entity_id: str,
    body: EntityStatusChange,
    caller: Staff,
    session: DbSession,
    settings: RegistryConfig,
    request: Request,
) -> EntityDetail:
    """The registry suspends an entity, stating why; its participant credential is revoked."""
    terms = participant_credentials.terms_of(settings, str(request.app.state.settings.base_url))
    suspended = entities.set_status(session, caller, entity_id, EntityStatus.suspended, body.reason, participants=terms)
    return EntityDetail.model_validate(suspended)
