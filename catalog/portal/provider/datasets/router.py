"""The console's datasets: list, create, edit, publish, open a new version, and upload files through the same
streamed upload the API uses (the page's script sends them to the API itself, with a progress bar)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from auth.caller import Caller
from auth.dependencies import CSRF_FIELD, AnyCaller, CsrfRefused, Cursor, DbSession
from catalog.datasets import service
from catalog.datasets.schemas import DatasetCreate, DatasetUpdate, StateChange
from catalog.files import service as files
from catalog.files.dependencies import Uploads
from catalog.files.limits import StallGuard, UploadBounds
from catalog.files.router import MULTIPART_OVERHEAD
from catalog.files.streaming import guarded_request, upload_file_pieces
from catalog.portal.dependencies import PortalRoute, to_signin
from catalog.portal.provider.datasets import views
from catalog.portal.provider.dependencies import (
    Fields,
    FormCaller,
    console_entity,
    console_page,
    form_token_valid,
    go,
    page,
)
from catalog.portal.provider.forms import GENERAL, domain_problems, validation_problems
from catalog.web.dependencies import StorageConfig, Store
from registry.models import Entity
from storage.exceptions import DomainError, PayloadTooLarge

router = APIRouter(include_in_schema=False, route_class=PortalRoute)
BASE = "/console/provider/datasets"


@router.get(BASE)
def datasets(http: HttpRequest, caller: AnyCaller, session: DbSession, cursor: Cursor = None) -> Response:
    """The entity's datasets, drafts included, newest first."""
    return console_page(
        http,
        caller,
        session,
        "provider/datasets.html",
        lambda entity: {"listed": views.dataset_list(session, caller, entity, cursor)},
    )


def _form(
    http: HttpRequest,
    session: DbSession,
    entity: Entity,
    dataset_id: str | None,
    values: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
) -> Response:
    """The dataset form, new or for an edit, with its values and what is wrong with them."""
    resources = {resource.id: resource.name for resource in views.linkable_resources(session, entity)}
    return page(
        http,
        "provider/dataset_form.html",
        status,
        entity=entity,
        dataset_id=dataset_id,
        values=values,
        problems=problems,
        resources=resources,
    )


@router.get(f"{BASE}/new")
def new_dataset(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """An empty form for a new dataset."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return _form(http, session, entity, None, views.dataset_form(None), {})


@router.post(BASE)
def create_dataset(http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields) -> Response:
    """A new draft dataset (version 1), as POST /api/v1/datasets makes it."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    try:
        made = service.create_dataset(
            session, caller, DatasetCreate.model_validate(views.dataset_values(fields, keep_empty=False))
        )
    except ValidationError as error:
        return _form(http, session, entity, None, views.typed_dataset_form(fields), validation_problems(error), 422)
    except DomainError as error:
        session.rollback()
        problems = domain_problems(error)
        return _form(http, session, entity, None, views.typed_dataset_form(fields), problems, error.status)
    return go(http, f"{BASE}/{made.id}", {"done": "created"})


@router.get(f"{BASE}/{{dataset_id}}/edit")
def edit_dataset(dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """A dataset's metadata form."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    dataset = views.own_dataset(session, caller, entity, dataset_id)
    return _form(http, session, entity, dataset.id, views.dataset_form(dataset), {})


@router.post(f"{BASE}/{{dataset_id}}/edit")
def update_dataset(
    dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, fields: Fields
) -> Response:
    """Save a dataset's metadata, as PATCH /api/v1/datasets/{id} does with the fields the form holds."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    dataset = views.own_dataset(session, caller, entity, dataset_id)
    try:
        changes = DatasetUpdate.model_validate(views.dataset_values(fields, keep_empty=True))
        service.update_dataset(session, caller, dataset.id, changes)
    except ValidationError as error:
        return _form(
            http, session, entity, dataset.id, views.typed_dataset_form(fields), validation_problems(error), 422
        )
    except DomainError as error:
        session.rollback()
        problems = domain_problems(error)
        return _form(http, session, entity, dataset.id, views.typed_dataset_form(fields), problems, error.status)
    return go(http, f"{BASE}/{dataset.id}", {"done": "updated"})


def _dataset_page(
    http: HttpRequest,
    session: DbSession,
    caller: Caller,
    settings: StorageConfig,
    dataset_id: str,
    status: int = 200,
    problems: dict[str, str] | None = None,
) -> Response:
    """A dataset's console page: versions and files, the upload form, publishing and versions."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    detail = views.dataset_detail(session, caller, entity, dataset_id)
    return page(
        http,
        "provider/dataset.html",
        status,
        entity=entity,
        detail=detail,
        problems=problems or {},
        max_upload=settings.max_upload_bytes,
    )


@router.get(f"{BASE}/{{dataset_id}}")
def dataset(
    dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, settings: StorageConfig
) -> Response:
    """One of the entity's datasets."""
    return _dataset_page(http, session, caller, settings, dataset_id)


@router.post(f"{BASE}/{{dataset_id}}/publish")
def publish(
    dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, settings: StorageConfig
) -> Response:
    """Publish the newest version, as POST /api/v1/datasets/{id}/publish does."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    dataset = views.own_dataset(session, caller, entity, dataset_id)
    try:
        service.publish_dataset(session, caller, dataset.id)
    except DomainError as error:
        session.rollback()
        return _dataset_page(http, session, caller, settings, dataset.id, error.status, domain_problems(error))
    return go(http, f"{BASE}/{dataset.id}", {"done": "published"})


@router.post(f"{BASE}/{{dataset_id}}/versions")
def open_version(
    dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession, settings: StorageConfig, fields: Fields
) -> Response:
    """Open a new draft version for new files, as POST /api/v1/datasets/{id}/versions does."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    dataset = views.own_dataset(session, caller, entity, dataset_id)
    try:
        notes = StateChange.model_validate({"reason": fields.text("notes")}).reason
        service.new_version(session, caller, dataset.id, notes)
    except ValidationError:
        return _dataset_page(http, session, caller, settings, dataset.id, 422, {"notes": "too long"})
    except DomainError as error:
        session.rollback()
        return _dataset_page(http, session, caller, settings, dataset.id, error.status, domain_problems(error))
    return go(http, f"{BASE}/{dataset.id}", {"done": "version"})


@router.post(f"{BASE}/{{dataset_id}}/files")
async def upload(
    dataset_id: str,
    http: HttpRequest,
    caller: FormCaller,
    session: DbSession,
    settings: StorageConfig,
    store: Store,
    slots: Uploads,
) -> Response:
    """The upload form without script: its CSRF field is checked first, then its file streams into the store
    through the API's own upload path (slots, stall guard, verified store, one file row)."""
    if caller.is_anonymous:
        return to_signin(http)
    limit = settings.max_upload_bytes
    declared = http.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes", extra={"max_size": limit})
    bounds = UploadBounds.of(settings)
    with slots.hold(caller.account_id or "", bounds):
        # Permission and state before the body: a refused upload reads none of it.
        await slots.run(partial(files.prepare_upload, session, caller, dataset_id))
        body = guarded_request(http, StallGuard(bounds, max_size=limit, overhead=MULTIPART_OVERHEAD))
        async with body.form(max_files=1, max_fields=5) as form:
            if not form_token_valid(http, form.get(CSRF_FIELD)):
                raise CsrfRefused()
            chosen = form.get("file")
            if not isinstance(chosen, UploadFile) or not chosen.filename:
                problems = {"file": "required"}
                shown = partial(_dataset_page, http, session, caller, settings, dataset_id, 422, problems)
                return await run_in_threadpool(shown)
            name = files.safe_file_name(chosen.filename)
            store_file = partial(
                files.store_and_record,
                session,
                caller,
                store,
                dataset_id,
                upload_file_pieces(chosen),
                name=name,
                media_type=files.media_type_of(chosen.content_type, name),
                sha256=None,
                size=None,
                max_size=limit,
            )
            try:
                stored = await slots.run(store_file)
            except DomainError as error:
                problems = domain_problems(error) | {GENERAL: error.detail}
                shown = partial(_dataset_page, http, session, caller, settings, dataset_id, error.status, problems)
                return await run_in_threadpool(shown)
    return go(http, f"{BASE}/{dataset_id}", {"done": "uploaded", "file": stored.id})
