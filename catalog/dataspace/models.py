"""Tables of the data space: datasets' ODRL offers, contract negotiations with their steps, signed agreements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class DatasetOffer(SQLModel, table=True):
    """One offer of a dataset: its terms as ODRL JSON in pdr's profile, checked when written."""

    __tablename__ = "dataset_offer"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", index=True, max_length=26)
    # The permission, prohibition and obligation lists, as catalog.dataspace.policies writes them.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Negotiation(SQLModel, table=True):
    """A contract negotiation for a dataset: its parties, state, latest offer and, once agreed, the agreement."""

    __tablename__ = "negotiation"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    # The consumer's own identifier of the negotiation (the protocol's consumerPid).
    consumer_pid: str = Field(max_length=200)
    # What is negotiated: a dataset, or (for a mirrored access request) a registered product.
    dataset_id: str | None = Field(default=None, foreign_key="dataset.id", index=True, max_length=26)
    product_id: str | None = Field(default=None, foreign_key="data_product.id", index=True, max_length=26)
    # The catalog offer the consumer named; kept as text, since an offer may be taken back during a negotiation.
    offer_id: str = Field(max_length=26)
    provider_entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26)
    # The consumer's entity, if the account acts for one.
    entity_id: str | None = Field(default=None, max_length=26)
    state: str = Field(max_length=16, index=True)
    # The latest offer's terms (ODRL rule lists in pdr's profile), its @id, and which side made it.
    offer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    offer_iri: str = Field(max_length=300)
    offered_by: str = Field(max_length=16)
    # The ODRL Agreement, whole, from AGREED on: the subject of its signed credential (the agreement table).
    agreement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    callback_address: str | None = Field(default=None, max_length=2000)
    grant_id: str | None = Field(default=None, max_length=26)
    # The access request this negotiation mirrors (catalog.dataspace.request_mirror); it moves as the request does.
    request_id: str | None = Field(default=None, foreign_key="access_request.id", unique=True, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NegotiationStep(SQLModel, table=True):
    """One step of a negotiation: who took it, when, the state it led to, and the protocol message it was."""

    __tablename__ = "negotiation_step"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    negotiation_id: str = Field(foreign_key="negotiation.id", index=True, max_length=26)
    # Steps of one negotiation in order (ids of one millisecond do not sort among themselves).
    seq: int
    # consumer, provider, or system (an automatic agreement).
    side: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=26)
    state: str = Field(max_length=16)
    message_type: str = Field(max_length=60)
    message: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Agreement(SQLModel, table=True):
    """A negotiation's agreement as a signed W3C credential: logged, with a bit in the issuer's status list, and
    whether it still holds (valid) or was terminated by a party or retired by the provider."""

    __tablename__ = "agreement"

    # The negotiation's id: an agreement is the one a negotiation ends in.
    id: str = Field(foreign_key="negotiation.id", primary_key=True, max_length=26)
    # The signed credential exactly as issued; its RFC 8785 SHA-256 is in the agreement.signed log entry.
    credential: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    credential_sha256: str = Field(max_length=64)
    issuer_key_id: str = Field(foreign_key="signing_key.id", max_length=26)
    status_list: str = Field(max_length=40)
    status_index: int = Field(sa_type=BigInteger)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    log_index: int = Field(sa_type=BigInteger)
    status: str = Field(default="valid", max_length=16, index=True)  # valid, terminated or retired
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=26)
    ended_reason: str | None = Field(default=None, max_length=2000)
    ended_log_index: int | None = Field(default=None, sa_type=BigInteger)


class Transfer(SQLModel, table=True):
    """A transfer process under a finalized agreement: the consumer pulls the dataset's files with a short-lived
    access token of its own while the transfer is STARTED and the agreement holds."""

    __tablename__ = "transfer"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    # The consumer's own identifier of the transfer (the protocol's consumerPid).
    consumer_pid: str = Field(max_length=200)
    agreement_id: str = Field(foreign_key="agreement.id", index=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", max_length=26)
    provider_entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26)
    grant_id: str = Field(foreign_key="access_grant.id", max_length=26)
    format: str = Field(max_length=60)
    state: str = Field(max_length=16, index=True)
    callback_address: str | None = Field(default=None, max_length=2000)
    # Keyed hashes of the access token and of the one it replaced, which stays good until its own expiry so that
    # a refresh whose answer was lost costs the consumer nothing.
    token_hash: str | None = Field(default=None, unique=True, max_length=64)
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    previous_token_hash: str | None = Field(default=None, unique=True, max_length=64)
    previous_token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TransferStep(SQLModel, table=True):
    """One step of a transfer: who took it (a party, or the policy monitor), the state it led to, and its message."""

    __tablename__ = "transfer_step"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    transfer_id: str = Field(foreign_key="transfer.id", index=True, max_length=26)
    seq: int
    # consumer, provider, or system (the policy monitor, or pdr starting a pull transfer for the provider).
    side: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=26)
    state: str = Field(max_length=16)
    message_type: str = Field(max_length=60)
    message: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListingOffer(SQLModel, table=True):
    """One offer of a listed product: its terms as ODRL JSON in pdr's profile, checked when written."""

    __tablename__ = "listing_offer"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    listing_id: str = Field(foreign_key="listing.id", index=True, max_length=26)
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
