"""API shapes of the registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

from registry.enums import (
    EntityKind,
    EntityStatus,
    ObjectionState,
    Openness,
    ProductForm,
    RegistrationState,
    RegistrationType,
    SecurityLevel,
    SubjectStatus,
    Theme,
    UpdateCycle,
)
from storage.inputs import INT64_MAX

Text200 = Field(min_length=1, max_length=200)
# A calendar year a date can hold; the years of the operators' holiday table.
YEAR_MIN, YEAR_MAX = 1, 9999


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- entities


class EntityCreate(_Strict):
    """A registrant entity to create; the USCC is normalised and checked."""

    name: str = Text200
    name_en: str | None = Field(default=None, max_length=200)
    kind: EntityKind
    uscc: str = Field(min_length=1, max_length=64)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+() -]{3,40}$")
    contact_email: EmailStr | None = Field(default=None, max_length=200)  # the column's size; addresses reach 254
    address: str | None = Field(default=None, max_length=300)


class EntityStatusChange(_Strict):
    """An operator's decision on an entity."""

    reason: str | None = Field(default=None, max_length=1000)


class EntityPublic(BaseModel):
    """An entity as anyone sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_en: str | None
    kind: EntityKind
    uscc: str
    region_code: str
    status: EntityStatus
    created_at: datetime


class EntityDetail(EntityPublic):
    """An entity as its members and the registry's staff see it, contact included."""

    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    address: str | None
    status_reason: str | None
    updated_at: datetime


# ---------------------------------------------------------------- resources and products


class DataItem(_Strict):
    """One field of a resource (数据项)."""

    name: str = Field(min_length=1, max_length=100)
    type: Literal["string", "integer", "number", "boolean", "date", "datetime", "geometry", "binary", "other"]
    description: str | None = Field(default=None, max_length=500)


def _required_when_conditional(value: str | None, info: ValidationInfo, attribute: str) -> str | None:
    if info.data.get(attribute) == Openness.conditional and not (value and value.strip()):
        raise ValueError(f"{info.field_name} is required when {attribute} is conditional")
    return value


class ResourceFields(_Strict):
    """Metadata of a data resource: the national catalogue's core and the registration extras."""

    name: str = Text200
    name_en: str | None = Field(default=None, max_length=300)
    summary: str = Field(min_length=1, max_length=4000)
    formats: list[str] = Field(default_factory=list, max_length=20)
    data_items: list[DataItem] = Field(default_factory=list, max_length=500)
    sharing_attribute: Openness
    sharing_conditions: str | None = Field(default=None, max_length=2000, validate_default=True)
    open_attribute: Openness
    open_conditions: str | None = Field(default=None, max_length=2000, validate_default=True)
    security_level: SecurityLevel
    update_cycle: UpdateCycle
    publish_date: date | None = None
    record_count: int | None = Field(default=None, ge=0, le=INT64_MAX)
    data_volume_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    time_coverage_start: date | None = None
    time_coverage_end: date | None = Field(default=None, validate_default=True)
    spatial_coverage: str | None = Field(default=None, max_length=300)
    storage_location: str | None = Field(default=None, max_length=300)
    storage_method: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=1000)
    themes: list[Theme] = Field(default_factory=list, max_length=10)
    keywords: list[str] = Field(default_factory=list, max_length=30)
    related_resource_codes: list[str] = Field(default_factory=list, max_length=50)

    # Field validators (not a model validator) so that each problem names its field.
    @field_validator("sharing_conditions")
    @classmethod
    def _sharing_conditions(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _required_when_conditional(value, info, "sharing_attribute")

    @field_validator("open_conditions")
    @classmethod
    def _open_conditions(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _required_when_conditional(value, info, "open_attribute")

    @field_validator("time_coverage_end")
    @classmethod
    def _coverage_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("time_coverage_start")
        if value and start and value < start:
            raise ValueError("time_coverage_end is before time_coverage_start")
        return value


class ResourceCreate(ResourceFields):
    """A new data resource; staff name the entity, providers act for their own."""

    entity_id: str | None = None


class ResourceUpdate(_Strict):
    """Fields to change on a draft resource; registered ones change only through a registration."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=300)
    summary: str | None = Field(default=None, min_length=1, max_length=4000)
    formats: list[str] | None = Field(default=None, max_length=20)
    data_items: list[DataItem] | None = Field(default=None, max_length=500)
    sharing_attribute: Openness | None = None
    sharing_conditions: str | None = Field(default=None, max_length=2000)
    open_attribute: Openness | None = None
    open_conditions: str | None = Field(default=None, max_length=2000)
    security_level: SecurityLevel | None = None
    update_cycle: UpdateCycle | None = None
    publish_date: date | None = None
    record_count: int | None = Field(default=None, ge=0, le=INT64_MAX)
    data_volume_bytes: int | None = Field(default=None, ge=0, le=INT64_MAX)
    time_coverage_start: date | None = None
    time_coverage_end: date | None = None
    spatial_coverage: str | None = Field(default=None, max_length=300)
    storage_location: str | None = Field(default=None, max_length=300)
    storage_method: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=1000)
    themes: list[Theme] | None = Field(default=None, max_length=10)
    keywords: list[str] | None = Field(default=None, max_length=30)
    related_resource_codes: list[str] | None = Field(default=None, max_length=50)


class ResourcePublic(BaseModel):
    """A data resource."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    entity_id: str
    status: SubjectStatus
    revision: int
    name: str
    name_en: str | None
    summary: str
    formats: list[str]
    data_items: list[dict[str, Any]]
    sharing_attribute: Openness
    sharing_conditions: str | None
    open_attribute: Openness
    open_conditions: str | None
    security_level: SecurityLevel
    update_cycle: UpdateCycle
    publish_date: date | None
    record_count: int | None
    data_volume_bytes: int | None
    time_coverage_start: date | None
    time_coverage_end: date | None
    spatial_coverage: str | None
    storage_location: str | None
    storage_method: str | None
    source: str | None
    themes: list[str]
    keywords: list[str]
    related_resource_codes: list[str]
    created_at: datetime
    updated_at: datetime


class ProductFields(_Strict):
    """Metadata of a data product or service."""

    name: str = Text200
    name_en: str | None = Field(default=None, max_length=300)
    summary: str = Field(min_length=1, max_length=4000)
    form: ProductForm
    scenario: str = Field(min_length=1, max_length=2000, description="The one application scenario (一场景一申请).")
    source_resource_ids: list[str] = Field(min_length=1, max_length=100)
    security_level: SecurityLevel = SecurityLevel.general
    themes: list[Theme] = Field(default_factory=list, max_length=10)
    keywords: list[str] = Field(default_factory=list, max_length=30)


class ProductCreate(ProductFields):
    """A new data product; staff name the entity, providers act for their own."""

    entity_id: str | None = None


class ProductPublic(BaseModel):
    """A data product or service."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    entity_id: str
    status: SubjectStatus
    revision: int
    name: str
    name_en: str | None
    summary: str
    form: ProductForm
    scenario: str
    source_resource_ids: list[str]
    security_level: SecurityLevel
    themes: list[str]
    keywords: list[str]
    created_at: datetime
    updated_at: datetime


class SubjectVersionPublic(BaseModel):
    """A registered state of a resource or product."""

    model_config = ConfigDict(from_attributes=True)

    revision: int
    registration_id: str
    snapshot: dict[str, Any]
    created_at: datetime


# ---------------------------------------------------------------- registrations


class SubjectRef(_Strict):
    """What a registration is about: exactly one of a resource or a product."""

    # Not empty: an empty id would count as given here and as absent further on.
    resource_id: str | None = Field(default=None, min_length=1, max_length=26)
    product_id: str | None = Field(default=None, min_length=1, max_length=26)

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectRef:
        if (self.resource_id is None) == (self.product_id is None):
            raise ValueError("give exactly one of resource_id and product_id")
        return self


class RegistrationCreate(_Strict):
    """An application; change and correction carry the fields to replace."""

    type: RegistrationType
    subject: SubjectRef
    changes: dict[str, Any] = Field(default_factory=dict)


class StepRequest(_Strict):
    """A workflow step; some steps need a reason or a list of missing items."""

    reason: str | None = Field(default=None, max_length=2000)
    missing_items: list[str] | None = Field(default=None, max_length=100)
    changes: dict[str, Any] | None = None


class ObjectionResolution(_Strict):
    """The registry's decision on one objection."""

    objection_id: str
    decision: Literal["uphold", "dismiss"]
    reason: str = Field(min_length=1, max_length=2000)


class ObjectionCreate(_Strict):
    """An objection to a registration in public notice; without an account, the objector's name and contact."""

    reason: str = Field(min_length=1, max_length=4000)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact: str | None = Field(default=None, min_length=3, max_length=200, description="a telephone number or e-mail")


class ObjectionPublic(BaseModel):
    """An objection and its outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    registration_id: str
    reason: str
    state: ObjectionState
    resolution: str | None
    filed_at: datetime
    resolved_at: datetime | None
    anonymous: bool = Field(description="filed without an account")
    # Who objected: for the registry's staff (and the objector's own receipt) only, otherwise null.
    filed_by: str | None = None
    objector_name: str | None = None
    objector_contact: str | None = None


class StepPublic(BaseModel):
    """One step of a registration's history."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    from_state: str | None
    to_state: str
    actor_id: str | None
    actor_name: str | None
    reason: str | None
    details: dict[str, Any]
    at: datetime


class RegistrationPublic(BaseModel):
    """A registration with its deadlines and full history."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str | None
    query_code: str | None
    type: RegistrationType
    subject_type: str
    subject_id: str
    entity_id: str
    state: RegistrationState
    changes: dict[str, Any]
    missing_items: list[str]
    reason: str | None
    submitted_at: datetime | None
    accept_by: date | None
    accepted_at: datetime | None
    notice_starts_on: date | None
    notice_ends_on: date | None
    registered_at: datetime | None
    valid_until: date | None
    calendar_note: str | None = None
    allowed_actions: list[str] = Field(default_factory=list)
    version: int
    history: list[StepPublic] = Field(default_factory=list)
    objections: list[ObjectionPublic] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class NoticePublic(BaseModel):
    """A line of the public notice board: the four public fields and the dates, nothing more."""

    id: str
    registrant_name: str
    registration_type: RegistrationType
    data_name: str
    summary: str
    notice_starts_on: date
    notice_ends_on: date


class CalendarYear(_Strict):
    """The operators' holiday table for one year, replacing what was there."""

    holidays: list[date] = Field(default_factory=list, max_length=366)
    workdays: list[date] = Field(default_factory=list, max_length=366)


# ---------------------------------------------------------------- certificates

CertificateStatus = Literal["valid", "revoked", "expired"]


class CertificateRequest(_Strict):
    """What staff send to issue a certificate: the registration or the subject, the rights and the scope."""

    registration_id: str | None = Field(default=None, max_length=26)
    resource_id: str | None = Field(default=None, max_length=26)
    product_id: str | None = Field(default=None, max_length=26)
    rights: list[str] = Field(max_length=10)
    scope: str = Field(min_length=1, max_length=2000)
    authorisation_ends_on: date | None = None


class CertificateBundle(BaseModel):
    """A certificate as anyone may fetch and verify it offline."""

    number: str
    credential: dict[str, Any]
    tlog_proof: str = Field(description="c2sp.org/tlog-proof@v1 text for the certificate.issued entry")
    status: CertificateStatus
    log_index: int


class RevocationRequest(_Strict):
    """Why a certificate is revoked."""

    reason: str | None = Field(default=None, max_length=2000)


class CertificateSummary(BaseModel):
    """A certificate in a list."""

    id: str
    number: str
    status: CertificateStatus
    subject_type: str
    subject_id: str
    entity_id: str
    holder_uscc: str
    holder_name: str
    subject_name: str
    rights: list[str]
    valid_from: datetime
    valid_until: datetime
    log_index: int | None


class ParticipantBundle(BaseModel):
    """A verified entity's data space participant credential as anyone may fetch and verify it offline."""

    id: str = Field(description="the credential's id, urn:pdr:participant:ENTITY:SERIAL")
    entity_id: str
    credential: dict[str, Any]
    tlog_proof: str = Field(description="c2sp.org/tlog-proof@v1 text for the participant.issued entry")
    status: CertificateStatus = Field(description="valid, revoked (the entity was suspended) or expired")
    log_index: int
