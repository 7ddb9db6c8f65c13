"""API shapes of the data space: offers in, offers out, a prospective request and its explanation, and the
Dataspace Protocol's catalog request message, and contract negotiations (native and protocol messages)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.dataspace.documents import DSPACE_CONTEXT
from catalog.exchange.schemas import UseCategory
from storage.exceptions import DomainError, FieldProblem

RightOperand = str | int | float | list[str]


class ModelContract(StrEnum):
    """The national model contracts (catalog.dataspace.profile.MODEL_CONTRACTS)."""

    data_provision = "data_provision"
    entrusted_processing = "entrusted_processing"
    joint_development = "joint_development"
    intermediary_services = "intermediary_services"


class ConstraintIn(BaseModel):
    """An atomic ODRL constraint: a left operand of the profile, one of its operators, and the value."""

    model_config = ConfigDict(extra="forbid")

    leftOperand: str = Field(max_length=100)
    operator: str = Field(max_length=40)
    rightOperand: RightOperand


class RuleIn(BaseModel):
    """An ODRL rule: its action and the constraints on it."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=100)
    constraint: list[ConstraintIn] | None = Field(default=None, max_length=20)


class OfferCreate(BaseModel):
    """An ODRL offer in pdr's profile (GET /api/v1/odrl/profile lists its terms); the service gives it its @id."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["Offer"] = Field(default="Offer", alias="@type")
    profile: str | list[str] | None = None
    permission: list[RuleIn] = Field(min_length=1, max_length=10)
    prohibition: list[RuleIn] | None = Field(default=None, max_length=10)
    obligation: list[RuleIn] | None = Field(default=None, max_length=10)


class ListingOfferPublic(BaseModel):
    """One offer of a listed product: its ODRL Offer (its @id, profile and target included)."""

    id: str
    listing_id: str
    created_at: datetime
    policy: dict[str, Any]


class OfferPublic(BaseModel):
    """An offer of a dataset; `policy` is the ODRL Offer exactly as the Dataspace Protocol carries it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    created_at: datetime
    policy: dict[str, Any]


class ProspectiveRequest(BaseModel):
    """What a consumer means to ask for, to see how each offer of a dataset would judge it."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=2000)
    scenario: str = Field(min_length=1, max_length=2000)
    use_category: UseCategory
    requested_from: date
    requested_until: date
    region: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="GB/T 2260 region code")
    downloads: int | None = Field(default=None, ge=1, le=1_000_000_000)
    model_contract: ModelContract | None = None
    onward_transfer: bool = False
    sublicensing: bool = False


class CheckPublic(BaseModel):
    """One term of an offer read against the request: pass or fail for a constraint, applies for a duty."""

    rule: Literal["permission", "prohibition", "obligation"]
    action: str
    left_operand: str | None
    operator: str | None
    right_operand: str | list[str] | None
    outcome: Literal["pass", "fail", "applies"]
    reason: str


class OfferExplanation(BaseModel):
    """How one offer judges the request: it passes when no term fails."""

    offer_id: str
    passes: bool
    checks: list[CheckPublic]


class ExplanationPublic(BaseModel):
    """How every offer of a dataset (or a listing) judges the request; `passes` when at least one offer does."""

    dataset_id: str | None = None
    listing_id: str | None = None
    passes: bool
    offers: list[OfferExplanation]


class CatalogRequestMessage(BaseModel):
    """The Dataspace Protocol's CatalogRequestMessage (JSON-LD, compacted with the protocol's context)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    context: list[str] = Field(alias="@context", min_length=1, max_length=20)
    type: Literal["CatalogRequestMessage"] = Field(alias="@type")
    filter: list[Any] | None = Field(default=None, max_length=100)


class NegotiationCreate(BaseModel):
    """A consumer's request for an offer of a dataset, as it stands or with its own terms (a counter-offer)."""

    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=60, description="the offer's id or its @id (urn:pdr:offer:...)")
    terms: OfferCreate | None = Field(default=None, description="the consumer's own terms, if it changes the offer's")


class NegotiationTerms(BaseModel):
    """A counter-offer: new terms in pdr's profile (the provider's offer, or the consumer's request)."""

    model_config = ConfigDict(extra="forbid")

    terms: OfferCreate


class NegotiationTermination(BaseModel):
    """Why a party ends a negotiation."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class AgreementStatus(StrEnum):
    """Whether a signed agreement holds: valid, or ended by a party, by the provider, or by its last day passing."""

    valid = "valid"
    terminated = "terminated"
    retired = "retired"
    expired = "expired"


class AgreementBundle(BaseModel):
    """A signed agreement as its parties keep it and verify it offline (`pdr verify`)."""

    id: str
    credential: dict[str, Any]
    tlog_proof: str = Field(description="c2sp.org/tlog-proof@v1 text for the agreement.signed entry")
    status: AgreementStatus
    log_index: int


class NegotiationStepPublic(BaseModel):
    """One step: who took it (consumer, provider, or system for an automatic agreement), when, and its message."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    side: str
    actor_id: str | None
    state: str
    message_type: str
    message: dict[str, Any]
    reason: str | None
    at: datetime


class NegotiationPublic(BaseModel):
    """A contract negotiation: its parties, state, the latest offer, the agreement once agreed, and its steps."""

    id: str
    provider_pid: str
    consumer_pid: str
    state: str
    dataset_id: str | None
    product_id: str | None = None
    offer_id: str
    provider_entity_id: str
    account_id: str
    entity_id: str | None
    offer: dict[str, Any]
    offered_by: str
    agreement: dict[str, Any] | None
    grant_id: str | None
    created_at: datetime
    updated_at: datetime
    steps: list[NegotiationStepPublic] | None = None


class ProtocolMessage(BaseModel):
    """What every negotiation message pdr receives carries (JSON-LD, compacted with the protocol's context)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    context: list[str] = Field(alias="@context", min_length=1, max_length=20)
    consumerPid: str = Field(min_length=1, max_length=200)
    providerPid: str | None = Field(default=None, min_length=1, max_length=200)

    def check_context(self) -> None:
        """Refuse a message outside the protocol's context (400, naming the field)."""
        if DSPACE_CONTEXT not in self.context:
            raise message_problem(f"the message's @context must include {DSPACE_CONTEXT}", "@context", "missing")


def message_problem(detail: str, field: str, message: str) -> DomainError:
    """A protocol message refused for one of its fields (400)."""
    return DomainError(detail, errors=[FieldProblem(field, message)])


class MessageOffer(BaseModel):
    """The offer of a ContractRequestMessage: its @id (a catalog offer's, at the start), target and terms."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    id: str = Field(alias="@id", min_length=1, max_length=300)
    type: Literal["Offer"] = Field(default="Offer", alias="@type")
    target: str | None = Field(default=None, max_length=300)
    profile: str | list[str] | None = None
    permission: list[RuleIn] | None = Field(default=None, max_length=10)
    prohibition: list[RuleIn] | None = Field(default=None, max_length=10)
    obligation: list[RuleIn] | None = Field(default=None, max_length=10)


class ContractRequestIn(ProtocolMessage):
    """The protocol's ContractRequestMessage."""

    type: Literal["ContractRequestMessage"] = Field(alias="@type")
    offer: MessageOffer
    callbackAddress: str | None = Field(default=None, max_length=2000)


class NegotiationEventIn(ProtocolMessage):
    """The protocol's ContractNegotiationEventMessage (a consumer sends ACCEPTED)."""

    type: Literal["ContractNegotiationEventMessage"] = Field(alias="@type")
    eventType: Literal["ACCEPTED", "FINALIZED"]


class AgreementVerificationIn(ProtocolMessage):
    """The protocol's ContractAgreementVerificationMessage."""

    type: Literal["ContractAgreementVerificationMessage"] = Field(alias="@type")


class CodedMessage(ProtocolMessage):
    """A message that may say why, with a code and reasons (terminations and suspensions)."""

    code: str | None = Field(default=None, max_length=100)
    reason: list[Any] | None = Field(default=None, max_length=20)

    def reason_text(self, limit: int = 2000) -> str | None:
        """The reasons as one text, as a step on record keeps it."""
        return "; ".join(str(item) for item in self.reason or [])[:limit] or None


class NegotiationTerminationIn(CodedMessage):
    """The protocol's ContractNegotiationTerminationMessage."""

    type: Literal["ContractNegotiationTerminationMessage"] = Field(alias="@type")


class TransferUsage(BaseModel):
    """One transfer's use: its state, and the downloads made in it."""

    transfer_id: str
    state: str
    started_at: datetime
    downloads: int
    complete_downloads: int
    bytes_sent: int
    first_at: datetime | None
    last_at: datetime | None


class AgreementUsage(BaseModel):
    """An agreement's use: every download under its grant (in a transfer or not), and each transfer's share."""

    agreement_id: str
    status: str
    downloads: int
    complete_downloads: int
    bytes_sent: int
    first_at: datetime | None
    last_at: datetime | None
    # Calls to a data service (a product's agreement), and the bytes their answers carried.
    service_calls: int = 0
    service_call_bytes: int = 0
    transfers: list[TransferUsage]
