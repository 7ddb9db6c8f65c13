"""The Dataspace Protocol's contract negotiation state machine: which side may send which message in which state.

Transitions (2025-1, "Contract Negotiation Protocol"; C the consumer, P the provider):

- C ContractRequestMessage: (start) or OFFERED -> REQUESTED
- P ContractOfferMessage: REQUESTED -> OFFERED (pdr never starts a negotiation with an offer of its own)
- C ContractNegotiationEventMessage ACCEPTED: OFFERED -> ACCEPTED
- P ContractAgreementMessage: REQUESTED or ACCEPTED -> AGREED
- C ContractAgreementVerificationMessage: AGREED -> VERIFIED
- P ContractNegotiationEventMessage FINALIZED: VERIFIED -> FINALIZED
- C or P ContractNegotiationTerminationMessage: any state but FINALIZED and TERMINATED -> TERMINATED
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.exceptions import Conflict, Forbidden


class State(StrEnum):
    """The protocol's negotiation states."""

    REQUESTED = "REQUESTED"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    AGREED = "AGREED"
    VERIFIED = "VERIFIED"
    FINALIZED = "FINALIZED"
    TERMINATED = "TERMINATED"


class Side(StrEnum):
    """The two parties of a negotiation."""

    consumer = "consumer"
    provider = "provider"


class Step(StrEnum):
    """What a party does: each step is one of the protocol's messages."""

    request = "request"
    offer = "offer"
    accept = "accept"
    agree = "agree"
    verify = "verify"
    finalize = "finalize"
    terminate = "terminate"


TERMINAL = frozenset({State.FINALIZED, State.TERMINATED})
OPEN = frozenset(State) - TERMINAL


@dataclass(frozen=True)
class Transition:
    """Who sends a step's message, the states it may be sent in (None: it starts a negotiation), and where it leads."""

    side: Side | None  # None: either side
    sources: frozenset[State | None]
    target: State
    message_type: str


TRANSITIONS: dict[Step, Transition] = {
    Step.request: Transition(
        Side.consumer, frozenset({None, State.OFFERED}), State.REQUESTED, "ContractRequestMessage"
    ),
    Step.offer: Transition(Side.provider, frozenset({State.REQUESTED}), State.OFFERED, "ContractOfferMessage"),
    Step.accept: Transition(
        Side.consumer, frozenset({State.OFFERED}), State.ACCEPTED, "ContractNegotiationEventMessage"
    ),
    Step.agree: Transition(
        Side.provider, frozenset({State.REQUESTED, State.ACCEPTED}), State.AGREED, "ContractAgreementMessage"
    ),
    Step.verify: Transition(
        Side.consumer, frozenset({State.AGREED}), State.VERIFIED, "ContractAgreementVerificationMessage"
    ),
    Step.finalize: Transition(
        Side.provider, frozenset({State.VERIFIED}), State.FINALIZED, "ContractNegotiationEventMessage"
    ),
    Step.terminate: Transition(None, frozenset(OPEN), State.TERMINATED, "ContractNegotiationTerminationMessage"),
}


def advance(state: State | None, step: Step, side: Side) -> State:
    """The state a step leads to from `state` when `side` takes it; Forbidden (403) or Conflict (409) if it may not."""
    transition = TRANSITIONS[step]
    if transition.side is not None and transition.side != side:
        raise Forbidden(f"only the {transition.side.value} may {step.value} in a negotiation")
    if state not in transition.sources:
        where = "to start a negotiation" if state is None else f"in state {state.value}"
        raise Conflict(f"a negotiation cannot {step.value} {where}")
    return transition.target
