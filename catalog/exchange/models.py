"""Tables of the exchange: access requests, grants, download records, product listings and trade vouchers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Numeric
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class AccessRequest(SQLModel, table=True):
    """An application for conditional data or a registered product: one scenario per request."""

    __tablename__ = "access_request"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26)
    # The requester's entity, if the account acts for one.
    entity_id: str | None = Field(default=None, max_length=26)
    dataset_id: str | None = Field(default=None, foreign_key="dataset.id", index=True, max_length=26)
    product_id: str | None = Field(default=None, foreign_key="data_product.id", index=True, max_length=26)
    # The entity that decides: the dataset's or the product's.
    provider_entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    purpose: str = Field(max_length=2000)
    scenario: str = Field(max_length=2000)
    use_category: str = Field(max_length=16)
    requested_from: date
    requested_until: date
    state: str = Field(default="pending", max_length=20, index=True)
    decision_reason: str | None = Field(default=None, max_length=2000)
    decided_by: str | None = Field(default=None, max_length=26)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the provider approved, kept until the operator's second turns it into a grant.
    approved_until: date | None = None
    approved_quota: int | None = None
    seconded_by: str | None = Field(default=None, max_length=26)
    seconded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    grant_id: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccessGrant(SQLModel, table=True):
    """The right an approved request gives: who, to what, until when, and how many downloads."""

    __tablename__ = "access_grant"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    request_id: str = Field(foreign_key="access_request.id", unique=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26)
    entity_id: str | None = Field(default=None, index=True, max_length=26)
    provider_entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    dataset_id: str | None = Field(default=None, foreign_key="dataset.id", index=True, max_length=26)
    product_id: str | None = Field(default=None, foreign_key="data_product.id", index=True, max_length=26)
    use_category: str = Field(max_length=16)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    download_quota: int | None = None
    downloads_used: int = 0
    state: str = Field(default="active", max_length=16, index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=26)
    revoked_reason: str | None = Field(default=None, max_length=2000)
    log_index: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DownloadRecord(SQLModel, table=True):
    """One download: who, under which grant, which file, how many bytes went out, when and from where."""

    __tablename__ = "download_record"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    account_id: str | None = Field(default=None, index=True, max_length=26)
    grant_id: str | None = Field(default=None, index=True, max_length=26)
    # The data space transfer the download was made in, if any.
    transfer_id: str | None = Field(default=None, index=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", index=True, max_length=26)
    file_id: str = Field(foreign_key="dataset_file.id", max_length=26)
    # The dataset's entity, so a provider's listing needs no join.
    provider_entity_id: str = Field(index=True, max_length=26)
    # "stream" and "file" count bytes really sent; "redirect" and "accel" record the bytes authorised.
    mode: str = Field(max_length=16)
    range_start: int | None = Field(default=None, sa_type=BigInteger)
    range_end: int | None = Field(default=None, sa_type=BigInteger)
    bytes_sent: int = Field(default=0, sa_type=BigInteger)
    complete: bool = False
    client_addr: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Listing(SQLModel, table=True):
    """A registered product offered on the exchange, with its delivery mode and price."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    product_id: str = Field(foreign_key="data_product.id", index=True, max_length=26)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    title: str = Field(max_length=200)
    delivery_mode: str = Field(max_length=24, index=True)
    pricing_unit: str = Field(max_length=40)
    price: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = Field(default="CNY", max_length=3)
    use_category: str = Field(max_length=16)
    # A data service's (delivery mode api) base URL at the provider: pdr forwards its consumers' calls there.
    service_url: str | None = Field(default=None, max_length=2000)
    state: str = Field(default="listed", max_length=16, index=True)
    state_reason: str | None = Field(default=None, max_length=2000)
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def service(self) -> bool:
        """Whether the listing is a data service its consumers call through pdr."""
        return self.service_url is not None


class Voucher(SQLModel, table=True):
    """A trade voucher: the record of a finalized data space agreement with a fee, its parties, object and price."""

    __tablename__ = "trade_voucher"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    # The identifier people cite, with its check character (catalog.exchange.vouchers).
    number: str = Field(unique=True, max_length=32)
    # The agreement's (and its negotiation's) id; plain text, as the data space sits above the exchange.
    agreement_id: str = Field(unique=True, max_length=26)
    # The provider entity (the agreement's assigner) and the consumer (its assignee): an account, and its entity.
    assigner_entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26)
    entity_id: str | None = Field(default=None, index=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", max_length=26)
    price: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = Field(default="CNY", max_length=3)
    # Where the agreement's signed credential is in the transparency log (its agreement.signed entry).
    agreement_log_index: int = Field(sa_type=BigInteger)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ServiceCall(SQLModel, table=True):
    """One call a consumer made to a data service through pdr: under which grant, what it asked, how it was answered."""

    __tablename__ = "service_call"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    listing_id: str = Field(foreign_key="listing.id", index=True, max_length=26)
    # None for a call by the providing entity's own members, which needs no grant.
    grant_id: str | None = Field(default=None, index=True, max_length=26)
    account_id: str = Field(index=True, max_length=26)
    provider_entity_id: str = Field(index=True, max_length=26)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    # The provider's status, or 502/504 when it could not be reached or did not answer in time.
    status: int
    request_bytes: int = Field(default=0, sa_type=BigInteger)
    response_bytes: int = Field(default=0, sa_type=BigInteger)
    # Whether the provider's whole answer reached the consumer.
    complete: bool = False
    duration_ms: int = 0
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
