"""The provider side of the Dataspace Protocol's contract negotiation: the messages a consumer sends pdr, each read
into one of catalog.dataspace.negotiations' use cases.

The participant is the caller of pdr's bearer token (its account, and the entity it acts for).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from auth.caller import Caller
from catalog.dataspace.documents import dataset_id_of
from catalog.dataspace.models import Negotiation
from catalog.dataspace.negotiation import Step
from catalog.dataspace.negotiation_protocol import negotiation_id_of, provider_pid
from catalog.dataspace.negotiations import Opening, Rules, start_negotiation, take_step, visible_negotiation
from catalog.dataspace.profile import RULE_KINDS
from catalog.dataspace.schemas import (
    AgreementVerificationIn,
    ContractRequestIn,
    NegotiationEventIn,
    NegotiationTerminationIn,
    ProtocolMessage,
    message_problem,
)
from storage.inputs import url_problem


def _terms(message: ContractRequestIn) -> dict[str, Any] | None:
    """The consumer's terms, when its offer carries rules; an offer named by its @id alone is taken as it stands."""
    offer = message.offer.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not any(kind in offer for kind in RULE_KINDS):
        return None
    return {key: value for key, value in offer.items() if key in (*RULE_KINDS, "profile")}


def open_negotiation(session: Session, caller: Caller, message: ContractRequestIn, rules: Rules) -> Negotiation:
    """An initiating ContractRequestMessage: a new negotiation for a catalog offer, REQUESTED."""
    message.check_context()
    if message.providerPid is not None:
        raise message_problem(
            "an initiating request carries no providerPid", "providerPid", "send it to /request of the pid"
        )
    callback = message.callbackAddress
    if callback is None:
        raise message_problem("an initiating request names its callbackAddress", "callbackAddress", "is required")
    problem = url_problem(callback)
    if problem is not None:
        raise message_problem(f"the callbackAddress {problem}", "callbackAddress", problem)
    target = message.offer.target
    opening = Opening(
        offer_id=message.offer.id,
        terms=_terms(message),
        consumer_pid=message.consumerPid,
        callback_address=callback,
        dataset_id=dataset_id_of(target) if target is not None else None,
    )
    return start_negotiation(session, caller, opening, rules)


def found(session: Session, caller: Caller, pid: str) -> Negotiation:
    """The negotiation a providerPid names, if the caller may see it."""
    return visible_negotiation(session, caller, negotiation_id_of(pid))


def _addressed(session: Session, caller: Caller, pid: str, message: ProtocolMessage) -> Negotiation:
    """The negotiation a message is for: its pids must be the negotiation's."""
    message.check_context()
    negotiation = found(session, caller, pid)
    if message.providerPid != provider_pid(negotiation):
        raise message_problem(
            "the message's providerPid is not the negotiation's", "providerPid", provider_pid(negotiation)
        )
    if message.consumerPid != negotiation.consumer_pid:
        raise message_problem("the message's consumerPid is not the negotiation's", "consumerPid", "does not match")
    return negotiation


def counter_request(
    session: Session, caller: Caller, pid: str, message: ContractRequestIn, rules: Rules
) -> Negotiation:
    """A ContractRequestMessage for an existing negotiation: the consumer's counter-offer (OFFERED -> REQUESTED)."""
    negotiation = _addressed(session, caller, pid, message)
    terms = _terms(message)
    if terms is None:
        # Named by @id alone: the offer it names is the provider's latest one, taken as it stands.
        if message.offer.id != negotiation.offer_iri:
            raise message_problem(
                "the offer is neither the negotiation's latest nor spelled out", "offer", "give its terms"
            )
        terms = dict(negotiation.offer)
    return take_step(session, caller, negotiation.id, Step.request, rules, terms=terms)


def event(session: Session, caller: Caller, pid: str, message: NegotiationEventIn, rules: Rules) -> Negotiation:
    """A ContractNegotiationEventMessage: the consumer accepts the provider's latest offer (never FINALIZED)."""
    negotiation = _addressed(session, caller, pid, message)
    if message.eventType != "ACCEPTED":
        raise message_problem("a consumer does not send FINALIZED: the provider does", "eventType", "must be ACCEPTED")
    return take_step(session, caller, negotiation.id, Step.accept, rules)


def verification(
    session: Session, caller: Caller, pid: str, message: AgreementVerificationIn, rules: Rules
) -> Negotiation:
    """A ContractAgreementVerificationMessage: the consumer verifies the agreement (AGREED -> VERIFIED)."""
    negotiation = _addressed(session, caller, pid, message)
    return take_step(session, caller, negotiation.id, Step.verify, rules)


def termination(
    session: Session, caller: Caller, pid: str, message: NegotiationTerminationIn, rules: Rules
) -> Negotiation:
    """A ContractNegotiationTerminationMessage: the consumer ends the negotiation, with its code and reasons."""
    negotiation = _addressed(session, caller, pid, message)
    reason = message.reason_text()
    return take_step(session, caller, negotiation.id, Step.terminate, rules, code=message.code, reason=reason)
