"""Tables of the registry: resources, products, registrations and their history, with the entities (declared in
`registry.entity_table`, which the account table needs alone)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Declares the account table, which an objection's filed_by refers to.
import auth.models  # noqa: F401
from registry.entity_table import Entity as Entity
from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


def _json_column(nullable: bool = False) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=nullable))


class DataResource(SQLModel, table=True):
    """A public data resource: catalogue core metadata plus the registration extras."""

    __tablename__ = "data_resource"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    code: str = Field(max_length=40, unique=True)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    status: str = Field(default="draft", max_length=16, index=True)
    revision: int = 0
    name: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=300)
    summary: str = Field(max_length=4000)
    formats: list[str] = _json_column()
    data_items: list[dict[str, Any]] = _json_column()
    sharing_attribute: str = Field(max_length=16)
    sharing_conditions: str | None = Field(default=None, max_length=2000)
    open_attribute: str = Field(max_length=16)
    open_conditions: str | None = Field(default=None, max_length=2000)
    security_level: str = Field(max_length=16)
    update_cycle: str = Field(max_length=16)
    publish_date: date | None = None
    record_count: int | None = Field(default=None, sa_type=BigInteger)
    data_volume_bytes: int | None = Field(default=None, sa_type=BigInteger)
    time_coverage_start: date | None = None
    time_coverage_end: date | None = None
    spatial_coverage: str | None = Field(default=None, max_length=300)
    storage_location: str | None = Field(default=None, max_length=300)
    storage_method: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=1000)
    themes: list[str] = _json_column()
    keywords: list[str] = _json_column()
    related_resource_codes: list[str] = _json_column()
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DataProduct(SQLModel, table=True):
    """A data product or service built from resources for one application scenario."""

    __tablename__ = "data_product"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    code: str = Field(max_length=40, unique=True)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    status: str = Field(default="draft", max_length=16, index=True)
    revision: int = 0
    name: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=300)
    summary: str = Field(max_length=4000)
    form: str = Field(max_length=16)
    scenario: str = Field(max_length=2000)
    source_resource_ids: list[str] = _json_column()
    security_level: str = Field(default="general", max_length=16)
    themes: list[str] = _json_column()
    keywords: list[str] = _json_column()
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubjectVersion(SQLModel, table=True):
    """A registered state of a resource or product, kept readable after a change or correction."""

    __tablename__ = "subject_version"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "revision"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=26, index=True)
    revision: int
    registration_id: str = Field(foreign_key="registration.id", max_length=26)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# States after which a subject may be applied for again; at most one registration per subject is in any other.
_CLOSED_STATES = "('not_accepted', 'refused', 'registered', 'withdrawn')"


class Registration(SQLModel, table=True):
    """An application to register (or change, correct, cancel) a resource or product."""

    __table_args__ = (
        Index(
            "ux_registration_open_subject",
            "subject_id",
            unique=True,
            sqlite_where=text(f"state NOT IN {_CLOSED_STATES}"),
            postgresql_where=text(f"state NOT IN {_CLOSED_STATES}"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    code: str | None = Field(default=None, max_length=40, unique=True)
    query_code: str | None = Field(default=None, max_length=20)
    type: str = Field(max_length=16)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=26, index=True)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    state: str = Field(default="draft", max_length=16, index=True)
    # For change and correction: the fields of the subject to replace once registered.
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    missing_items: list[str] = _json_column()
    reason: str | None = Field(default=None, max_length=2000)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accept_by: date | None = Field(default=None, index=True)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_passed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notice_starts_on: date | None = Field(default=None, index=True)
    notice_ends_on: date | None = Field(default=None, index=True)
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: date | None = None
    calendar_fallback_years: list[int] = _json_column()
    version: int = 1
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RegistrationStep(SQLModel, table=True):
    """One step in a registration's history; rows are only ever added."""

    __tablename__ = "registration_step"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=26)
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=26)
    actor_name: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The transparency-log leaf that records this step.
    log_index: int | None = Field(default=None, sa_type=BigInteger)


class Objection(SQLModel, table=True):
    """An objection filed during a registration's public notice, by an account or by anyone with a name and contact."""

    __table_args__ = (Index("ix_objection_filed_from_filed_at", "filed_from", "filed_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=26)
    filed_by: str | None = Field(default=None, foreign_key="account.id", max_length=26)
    objector_name: str | None = Field(default=None, max_length=200)
    objector_contact: str | None = Field(default=None, max_length=200)
    # The client address of an objection without an account, for the rate limit; shown to staff only.
    filed_from: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=4000)
    state: str = Field(default="open", max_length=16)
    resolution: str | None = Field(default=None, max_length=2000)
    resolved_by: str | None = Field(default=None, max_length=26)
    filed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarOverride(SQLModel, table=True):
    """A day the registry's operators declare a holiday or a working day, over the official table."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)  # "holiday" or "workday"
    note: str | None = Field(default=None, max_length=200)


class Counter(SQLModel, table=True):
    """Named serial counters for the codes the registry issues."""

    name: str = Field(primary_key=True, max_length=60)
    value: int = 0


class SigningKey(SQLModel, table=True):
    """An Ed25519 key of the registry: the log's note key or a credential issuer key (private part encrypted)."""

    __tablename__ = "signing_key"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    purpose: str = Field(max_length=16, index=True)  # "log" or "issuer"
    name: str = Field(max_length=300)  # the log origin, or the issuer's did:key
    public_key: bytes = Field(sa_type=LargeBinary)
    private_key_pem: str = Field(sa_type=Text)
    encrypted: bool
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LogEntry(SQLModel, table=True):
    """One leaf of the transparency log: the RFC 8785 bytes of an event envelope."""

    __tablename__ = "log_entry"

    idx: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=60, index=True)
    subject: str = Field(max_length=100, index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    data: bytes = Field(sa_type=LargeBinary)


class LogNode(SQLModel, table=True):
    """The hash of a complete subtree of the log (level 0: leaf hashes)."""

    __tablename__ = "log_node"

    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    index: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_type=LargeBinary)


class LogCheckpoint(SQLModel, table=True):
    """A signed checkpoint of the log; one per batch of appends, never rewritten."""

    __tablename__ = "log_checkpoint"

    tree_size: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    root_hash: bytes = Field(sa_type=LargeBinary)
    note: str = Field(sa_type=Text)
    key_id: str = Field(foreign_key="signing_key.id", max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Certificate(SQLModel, table=True):
    """A signed property-right certificate (a W3C verifiable credential) and its revocation state."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    number: str = Field(max_length=17, unique=True)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=26, index=True)
    registration_id: str = Field(foreign_key="registration.id", max_length=26)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    holder_uscc: str = Field(max_length=18, index=True)
    rights: list[str] = _json_column()
    scope: str = Field(max_length=2000)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    # The signed credential exactly as issued; its RFC 8785 SHA-256 is in the certificate.issued log entry.
    credential: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credential_sha256: str = Field(max_length=64)
    issuer_key_id: str = Field(foreign_key="signing_key.id", max_length=26)
    status_list: str = Field(max_length=40)
    status_index: int = Field(sa_type=BigInteger)
    status: str = Field(default="valid", max_length=16, index=True)  # "valid" or "revoked"
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=2000)
    revoked_by: str | None = Field(default=None, max_length=26)
    revoked_log_index: int | None = Field(default=None, sa_type=BigInteger)
    log_index: int | None = Field(default=None, sa_type=BigInteger)
    issued_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusListVersion(SQLModel, table=True):
    """One signed version of a Bitstring Status List credential; each is logged, none is rewritten."""

    __tablename__ = "status_list_version"

    list_name: str = Field(primary_key=True, max_length=40)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    length: int = Field(sa_type=BigInteger)
    credential: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credential_sha256: str = Field(max_length=64)
    issuer_key_id: str = Field(foreign_key="signing_key.id", max_length=26)
    log_index: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ParticipantCredential(SQLModel, table=True):
    """A verified entity's data space participant credential (a signed W3C credential) and whether it still holds."""

    __tablename__ = "participant_credential"
    __table_args__ = (UniqueConstraint("entity_id", "serial"), UniqueConstraint("status_list", "status_index"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    # 1 for the entity's first verification, 2 after it was suspended and verified again, ...
    serial: int
    # The signed credential exactly as issued; its RFC 8785 SHA-256 is in the participant.issued log entry.
    credential: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credential_sha256: str = Field(max_length=64)
    issuer_key_id: str = Field(foreign_key="signing_key.id", max_length=26)
    status_list: str = Field(max_length=40)
    status_index: int = Field(sa_type=BigInteger)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    log_index: int = Field(sa_type=BigInteger)
    status: str = Field(default="valid", max_length=16, index=True)  # "valid" or "revoked"
    issued_by: str | None = Field(default=None, max_length=26)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=26)
    revoked_log_index: int | None = Field(default=None, sa_type=BigInteger)
