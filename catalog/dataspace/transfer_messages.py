"""The provider side of the Dataspace Protocol's transfer process: the messages a consumer sends pdr, each read into
one of catalog.dataspace.transfers' use cases. The participant is the caller of pdr's bearer token."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from catalog.dataspace.documents import DSPACE_CONTEXT
from catalog.dataspace.models import Transfer
from catalog.dataspace.schemas import ProtocolMessage
from catalog.dataspace.transfer import TransferAction
from catalog.dataspace.transfer_protocol import transfer_id_of, transfer_pid
from catalog.dataspace.transfer_schemas import (
    TransferCompletionIn,
    TransferRequestIn,
    TransferStartIn,
    TransferSuspensionIn,
    TransferTerminationIn,
)
from catalog.dataspace.transfers import Handout, TransferRules, request_transfer, take_step, visible_transfer
from storage.exceptions import DomainError, FieldProblem
from storage.inputs import url_problem

MAX_REASON = 2000


def _bad(detail: str, field: str, message: str) -> DomainError:
    return DomainError(detail, errors=[FieldProblem(field, message)])


def _check_context(message: ProtocolMessage) -> None:
    if DSPACE_CONTEXT not in message.context:
        raise _bad(f"the message's @context must include {DSPACE_CONTEXT}", "@context", "missing")


def open_transfer(session: Session, caller: Caller, message: TransferRequestIn, rules: TransferRules) -> Handout:
    """A TransferRequestMessage: a pull transfer under the named agreement, started at once (its start message, with
    the data address, goes to the consumer's callback)."""
    _check_context(message)
    if message.providerPid is not None:
        raise _bad("a transfer request carries no providerPid", "providerPid", "leave it out")
    if message.dataAddress is not None:
        raise _bad("pdr's transfers are pulled: a request carries no dataAddress", "dataAddress", "leave it out")
    problem = url_problem(message.callbackAddress)
    if problem is not None:
        raise _bad(f"the callbackAddress {problem}", "callbackAddress", problem)
    return request_transfer(
        session,
        caller,
        message.agreementId,
        rules,
        transfer_format=message.format,
        consumer_pid=message.consumerPid,
        callback_address=message.callbackAddress,
    )


def found(session: Session, caller: Caller, pid: str) -> Transfer:
    """The transfer a providerPid names, if the caller may see it."""
    return visible_transfer(session, caller, transfer_id_of(pid))


def _addressed(session: Session, caller: Caller, pid: str, message: ProtocolMessage) -> Transfer:
    """The transfer a message is for: its pids must be the transfer's."""
    _check_context(message)
    transfer = found(session, caller, pid)
    if message.providerPid != transfer_pid(transfer):
        raise _bad("the message's providerPid is not the transfer's", "providerPid", transfer_pid(transfer))
    if message.consumerPid != transfer.consumer_pid:
        raise _bad("the message's consumerPid is not the transfer's", "consumerPid", "does not match")
    return transfer


def _reason(message: TransferSuspensionIn | TransferTerminationIn) -> str | None:
    return "; ".join(str(item) for item in message.reason or [])[:MAX_REASON] or None


def restart(session: Session, caller: Caller, pid: str, message: TransferStartIn) -> Transfer:
    """A consumer's TransferStartMessage: a suspended transfer starts again (its access token is refreshed apart)."""
    transfer = _addressed(session, caller, pid, message)
    return take_step(session, caller, transfer.id, TransferAction.start)


def completion(session: Session, caller: Caller, pid: str, message: TransferCompletionIn) -> Transfer:
    """A TransferCompletionMessage: the consumer has what it came for (STARTED -> COMPLETED)."""
    transfer = _addressed(session, caller, pid, message)
    return take_step(session, caller, transfer.id, TransferAction.complete)


def suspension(session: Session, caller: Caller, pid: str, message: TransferSuspensionIn) -> Transfer:
    """A TransferSuspensionMessage, with its code and reasons (STARTED -> SUSPENDED)."""
    transfer = _addressed(session, caller, pid, message)
    reason = _reason(message)
    return take_step(session, caller, transfer.id, TransferAction.suspend, code=message.code, reason=reason)


def termination(session: Session, caller: Caller, pid: str, message: TransferTerminationIn) -> Transfer:
    """A TransferTerminationMessage, with its code and reasons (any running state -> TERMINATED)."""
    transfer = _addressed(session, caller, pid, message)
    reason = _reason(message)
    return take_step(session, caller, transfer.id, TransferAction.terminate, code=message.code, reason=reason)
