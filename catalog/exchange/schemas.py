"""API shapes of the exchange: access requests, grants, downloads, listings, trade vouchers, the annual disclosure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UseCategory(StrEnum):
    """What the data will be used for: public governance and welfare, or industry."""

    public_welfare = "public_welfare"
    industry = "industry"


class DeliveryMode(StrEnum):
    """How a listed product reaches its buyer."""

    file = "file"
    api = "api"
    privacy_computation = "privacy_computation"
    report = "report"


class RequestState(StrEnum):
    """Life of an access request."""

    pending = "pending"
    provider_approved = "provider_approved"  # waiting for the operator's second
    approved = "approved"
    rejected = "rejected"


class GrantState(StrEnum):
    """A grant is active until revoked; expiry and quota are checked at each download."""

    active = "active"
    revoked = "revoked"


class GrantStatus(StrEnum):
    """What a grant allows now, as listed: its stored state read against the clock and its quota."""

    pending = "pending"
    active = "active"
    expired = "expired"
    used_up = "used_up"
    revoked = "revoked"


class ListingState(StrEnum):
    """Life of a listing."""

    listed = "listed"
    suspended = "suspended"
    delisted = "delisted"


class AccessRequestCreate(BaseModel):
    """An application: one target, one purpose, one application scenario, a use category and a period."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str | None = Field(default=None, max_length=100)
    product_id: str | None = Field(default=None, max_length=26)
    purpose: str = Field(min_length=1, max_length=2000)
    scenario: str = Field(min_length=1, max_length=2000)
    use_category: UseCategory
    requested_from: date
    requested_until: date

    @model_validator(mode="after")
    def _one_target(self) -> AccessRequestCreate:
        if (self.dataset_id is None) == (self.product_id is None):
            raise ValueError("name exactly one of dataset_id and product_id")
        return self


class Decision(BaseModel):
    """A provider's (or operator's) decision; an approval may shorten the period and set a download quota."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
    until: date | None = None
    download_quota: int | None = Field(default=None, ge=1, le=1_000_000)


class Reason(BaseModel):
    """A reason for a refusal or a revocation."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class AccessRequestPublic(BaseModel):
    """An access request as its requester, its provider and the staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    entity_id: str | None
    dataset_id: str | None
    product_id: str | None
    provider_entity_id: str
    purpose: str
    scenario: str
    use_category: str
    requested_from: date
    requested_until: date
    state: str
    decision_reason: str | None
    decided_at: datetime | None
    approved_until: date | None
    approved_quota: int | None
    seconded_at: datetime | None
    grant_id: str | None
    created_at: datetime


class GrantPublic(BaseModel):
    """A grant: who, to what, until when, how many downloads."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str
    account_id: str
    entity_id: str | None
    provider_entity_id: str
    dataset_id: str | None
    product_id: str | None
    use_category: str
    valid_from: datetime
    valid_until: datetime
    download_quota: int | None
    downloads_used: int
    state: GrantStatus
    revoked_at: datetime | None
    revoked_reason: str | None
    log_index: int | None
    created_at: datetime


class DownloadPublic(BaseModel):
    """One download on record."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str | None
    grant_id: str | None
    dataset_id: str
    file_id: str
    mode: str
    range_start: int | None
    range_end: int | None
    bytes_sent: int
    complete: bool
    client_addr: str | None
    at: datetime


class ListingCreate(BaseModel):
    """A listing of a registered product: delivery mode, pricing unit and price (CNY), use category."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=26)
    delivery_mode: DeliveryMode
    pricing_unit: str = Field(min_length=1, max_length=40)
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: Literal["CNY"] = "CNY"
    use_category: UseCategory
    service_url: str | None = Field(
        default=None,
        max_length=2000,
        description="an API product's base URL at the provider: with it, the listing is a data service its consumers "
        "call through pdr (`/api/v1/listings/{id}/service/...`), metered against their grants",
    )


class ListingPublic(BaseModel):
    """A listing as the public sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    entity_id: str
    title: str
    delivery_mode: str
    pricing_unit: str
    price: Decimal
    currency: str
    use_category: str
    state: str
    state_reason: str | None
    created_at: datetime
    updated_at: datetime
    service: bool = Field(default=False, description="whether the listing is a data service called through pdr")


class ServiceCallPublic(BaseModel):
    """A call made to a data service through pdr, as its caller and the providing entity see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    listing_id: str
    grant_id: str | None
    account_id: str
    method: str
    path: str
    status: int
    request_bytes: int
    response_bytes: int
    complete: bool
    duration_ms: int
    at: datetime


class DisclosedGrant(BaseModel):
    """A resource the operator entity was authorised to use in the year."""

    grant_id: str
    dataset_id: str | None
    product_id: str | None
    title: str
    provider_entity_id: str
    use_category: str
    valid_from: datetime
    valid_until: datetime
    state: str


class DisclosedFee(BaseModel):
    """A listing's price."""

    listing_id: str
    delivery_mode: str
    pricing_unit: str
    price: Decimal
    currency: str
    use_category: str
    state: str


class DisclosedProduct(BaseModel):
    """A product or service of the operator entity and its fees."""

    product_id: str
    code: str
    name: str
    form: str
    status: str
    fees: list[DisclosedFee]


class DisclosedVoucher(BaseModel):
    """A trade voucher of the year the operator entity is a party to: as provider (assigner) or consumer."""

    number: str
    role: Literal["provider", "consumer"]
    # The other party's entity; none when the consumer is an account acting for no entity (a person, not named).
    counterparty_entity_id: str | None
    counterparty_name: str | None
    dataset_id: str
    title: str
    price: Decimal
    currency: str
    agreement_log_index: int
    issued_at: datetime


class DisclosurePublic(BaseModel):
    """An operator entity's annual disclosure: resources it may use, its products and services, their fees, and the
    trade vouchers of the year it is a party to."""

    entity_id: str
    entity_name: str
    year: int
    due: bool
    due_by: date
    authorised_resources: list[DisclosedGrant]
    products: list[DisclosedProduct]
    vouchers: list[DisclosedVoucher]


class VoucherPublic(BaseModel):
    """A trade voucher as its parties and the staff see it: who agreed with whom on what, for how much, and where
    the agreement is in the transparency log."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    agreement_id: str
    assigner_entity_id: str
    account_id: str
    entity_id: str | None
    dataset_id: str
    price: Decimal
    currency: str
    agreement_log_index: int
    issued_at: datetime
