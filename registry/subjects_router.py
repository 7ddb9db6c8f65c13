"""HTTP routes of the things registered: data resources and data products, and their registered versions."""

from __future__ import annotations

from fastapi import APIRouter, status

from auth.dependencies import AnyCaller, DbSession, SignedIn
from registry import subjects
from registry.enums import SubjectType
from registry.models import DataProduct, DataResource
from registry.schemas import (
    ProductCreate,
    ProductPublic,
    ResourceCreate,
    ResourcePublic,
    ResourceUpdate,
    SubjectVersionPublic,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.post("/resources", response_model=ResourcePublic, status_code=status.HTTP_201_CREATED)
def create_resource(body: ResourceCreate, caller: SignedIn, session: DbSession) -> DataResource:
    """A new draft data resource."""
    return subjects.create_resource(session, caller, body)


@router.get("/resources/{resource_id}", response_model=ResourcePublic)
def read_resource(resource_id: str, caller: AnyCaller, session: DbSession) -> DataResource:
    """A data resource: registered ones are public, drafts only for their entity and the staff."""
    return subjects.visible_resource(session, caller, resource_id)


@router.patch("/resources/{resource_id}", response_model=ResourcePublic)
def update_resource(resource_id: str, body: ResourceUpdate, caller: SignedIn, session: DbSession) -> DataResource:
    """Edit a draft resource."""
    return subjects.update_resource(session, caller, resource_id, body)


@router.get("/resources/{resource_id}/versions", response_model=list[SubjectVersionPublic])
def resource_versions(resource_id: str, caller: AnyCaller, session: DbSession) -> list[SubjectVersionPublic]:
    """Every registered version of a resource, oldest first."""
    versions = subjects.visible_versions(session, caller, SubjectType.resource, resource_id)
    return [SubjectVersionPublic.model_validate(v) for v in versions]


@router.post("/products", response_model=ProductPublic, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductCreate, caller: SignedIn, session: DbSession) -> DataProduct:
    """A new draft data product or service."""
    return subjects.create_product(session, caller, body)


@router.get("/products/{product_id}", response_model=ProductPublic)
def read_product(product_id: str, caller: AnyCaller, session: DbSession) -> DataProduct:
    """A data product: registered ones are public, drafts only for their entity and the staff."""
    return subjects.visible_product(session, caller, product_id)


@router.get("/products/{product_id}/versions", response_model=list[SubjectVersionPublic])
def product_versions(product_id: str, caller: AnyCaller, session: DbSession) -> list[SubjectVersionPublic]:
    """Every registered version of a product, oldest first."""
    versions = subjects.visible_versions(session, caller, SubjectType.product, product_id)
    return [SubjectVersionPublic.model_validate(v) for v in versions]
