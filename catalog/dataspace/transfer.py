"""The Dataspace Protocol's transfer process state machine: which side may send which message in which state.

Transitions (2025-1, "Transfer Process Protocol"; C the consumer, P the provider):

- C TransferRequestMessage: (start) -> REQUESTED
- P TransferStartMessage: REQUESTED -> STARTED; C or P TransferStartMessage: SUSPENDED -> STARTED (a restart)
- C or P TransferSuspensionMessage: STARTED -> SUSPENDED
- C or P TransferCompletionMessage: STARTED -> COMPLETED
- C or P TransferTerminationMessage: any state but COMPLETED and TERMINATED -> TERMINATED
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from catalog.dataspace.negotiation import Side
from storage.exceptions import Conflict, Forbidden


class TransferState(StrEnum):
    """The protocol's transfer process states."""

    REQUESTED = "REQUESTED"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"


class TransferAction(StrEnum):
    """What a party does to a transfer: each step is one of the protocol's messages."""

    request = "request"
    start = "start"
    suspend = "suspend"
    complete = "complete"
    terminate = "terminate"


ENDED = frozenset({TransferState.COMPLETED, TransferState.TERMINATED})
RUNNING = frozenset(TransferState) - ENDED


@dataclass(frozen=True)
class Move:
    """The states a step may be sent in by each side (None: it starts a transfer), where it leads, its message."""

    by_consumer: frozenset[TransferState | None]
    by_provider: frozenset[TransferState | None]
    target: TransferState
    message_type: str


MOVES: dict[TransferAction, Move] = {
    TransferAction.request: Move(frozenset({None}), frozenset(), TransferState.REQUESTED, "TransferRequestMessage"),
    TransferAction.start: Move(
        frozenset({TransferState.SUSPENDED}),
        frozenset({TransferState.REQUESTED, TransferState.SUSPENDED}),
        TransferState.STARTED,
        "TransferStartMessage",
    ),
    TransferAction.suspend: Move(
        frozenset({TransferState.STARTED}),
        frozenset({TransferState.STARTED}),
        TransferState.SUSPENDED,
        "TransferSuspensionMessage",
    ),
    TransferAction.complete: Move(
        frozenset({TransferState.STARTED}),
        frozenset({TransferState.STARTED}),
        TransferState.COMPLETED,
        "TransferCompletionMessage",
    ),
    TransferAction.terminate: Move(
        frozenset(RUNNING), frozenset(RUNNING), TransferState.TERMINATED, "TransferTerminationMessage"
    ),
}


def advance(state: TransferState | None, step: TransferAction, side: Side) -> TransferState:
    """The state a step leads to from `state` when `side` takes it; Forbidden (403) or Conflict (409) if it may not."""
    move = MOVES[step]
    sources = move.by_consumer if side == Side.consumer else move.by_provider
    if not sources:
        raise Forbidden(f"only the {'provider' if side == Side.consumer else 'consumer'} may {step.value} a transfer")
    if state not in sources:
        where = "to start a transfer" if state is None else f"in state {state.value}"
        raise Conflict(f"the {side.value} cannot {step.value} a transfer {where}")
    return move.target
