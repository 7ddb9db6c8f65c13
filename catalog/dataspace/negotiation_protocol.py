"""The Dataspace Protocol's contract negotiation messages as pdr writes them: each valid against the protocol's
JSON schema (tests/catalog/dataspace checks every one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.dataspace.documents import DSPACE_CONTEXT, dataset_iri
from catalog.dataspace.models import Negotiation
from catalog.dataspace.negotiation import State, Step
from catalog.dataspace.profile import PROFILE

NEGOTIATION_PREFIX = "urn:pdr:negotiation:"
PRODUCT_PREFIX = "urn:pdr:product:"


def provider_pid(negotiation: Negotiation) -> str:
    """pdr's identifier of a negotiation in the protocol (its providerPid)."""
    return NEGOTIATION_PREFIX + negotiation.id


def negotiation_id_of(pid: str) -> str:
    """The row id behind a providerPid (the bare id is accepted too)."""
    return pid.removeprefix(NEGOTIATION_PREFIX)


def target_iri(negotiation: Negotiation) -> str:
    """What a negotiation is about: its dataset, or the registered product of a mirrored access request."""
    if negotiation.dataset_id is not None:
        return dataset_iri(negotiation.dataset_id)
    return PRODUCT_PREFIX + str(negotiation.product_id)


def offer_iri(negotiation_id: str, seq: int) -> str:
    """The @id of an offer made during a negotiation, by the step that made it."""
    return f"{NEGOTIATION_PREFIX}{negotiation_id}:offer:{seq}"


def offer_document(negotiation: Negotiation) -> dict[str, Any]:
    """The negotiation's latest offer as an ODRL Offer with its target, as the negotiation messages carry it."""
    return {
        "@id": negotiation.offer_iri,
        "@type": "Offer",
        "profile": PROFILE,
        "target": target_iri(negotiation),
        **negotiation.offer,
    }


def _head(message_type: str, negotiation: Negotiation) -> dict[str, Any]:
    return {
        "@context": [DSPACE_CONTEXT],
        "@type": message_type,
        "providerPid": provider_pid(negotiation),
        "consumerPid": negotiation.consumer_pid,
    }


def negotiation_document(negotiation: Negotiation) -> dict[str, Any]:
    """The ContractNegotiation: the acknowledgement of every message, and what GET answers."""
    return {**_head("ContractNegotiation", negotiation), "state": negotiation.state}


def step_message(
    negotiation: Negotiation,
    step: Step,
    *,
    code: str | None = None,
    reason: str | None = None,
    opening: bool = False,
) -> dict[str, Any]:
    """The protocol message a step is, written after the step has changed the negotiation."""
    if step == Step.request:
        message = {**_head("ContractRequestMessage", negotiation), "offer": offer_document(negotiation)}
        if opening and negotiation.callback_address:
            # The consumer's opening request knows no providerPid yet and names its callback instead.
            del message["providerPid"]
            message["callbackAddress"] = negotiation.callback_address
        return message
    if step == Step.offer:
        return {**_head("ContractOfferMessage", negotiation), "offer": offer_document(negotiation)}
    if step == Step.agree:
        return {**_head("ContractAgreementMessage", negotiation), "agreement": negotiation.agreement}
    if step == Step.verify:
        return _head("ContractAgreementVerificationMessage", negotiation)
    if step in (Step.accept, Step.finalize):
        event = State.ACCEPTED if step == Step.accept else State.FINALIZED
        return {**_head("ContractNegotiationEventMessage", negotiation), "eventType": event.value}
    message = _head("ContractNegotiationTerminationMessage", negotiation)
    if code:
        message["code"] = code
    if reason:
        message["reason"] = [reason]
    return message


def negotiation_error(status: int, reasons: Sequence[str], *, provider: str = "", consumer: str = "") -> dict[str, Any]:
    """A ContractNegotiationError: the HTTP status as its code, what went wrong, and the pids when known."""
    return {
        "@context": [DSPACE_CONTEXT],
        "@type": "ContractNegotiationError",
        "providerPid": provider,
        "consumerPid": consumer,
        "code": str(status),
        "reason": list(reasons) or ["the message was refused"],
    }
