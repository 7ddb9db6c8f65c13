"""The provider side of the Dataspace Protocol's transfer process: the messages a consumer sends pdr, each read into
one of catalog.dataspace.transfers' use cases. The participant is the caller of pdr's bearer token."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from catalog.dataspace.callbacks import send_start
from catalog.dataspace.models import Transfer
from catalog.dataspace.schemas import ProtocolMessage, message_problem
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
from storage.inputs import url_problem


def open_transfer(session: Session, caller: Caller, message: TransferRequestIn, rules: TransferRules) -> Handout:
    """A TransferRequestMessage: a pull transfer under the named agreement, started at once (its start message, with
    the data address, goes to the consumer's callback)."""
    message.check_context()
    if message.providerPid is not None:
        raise message_problem("a transfer request carries no providerPid", "providerPid", "leave it out")
    if message.dataAddress is not None:
        raise message_problem(
            "pdr's transfers are pulled: a request carries no dataAddress", "dataAddress", "leave it out"
        )
    problem = url_problem(message.callbackAddress)
    if problem is not None:
        raise message_problem(f"the callbackAddress {problem}", "callbackAddress", problem)
    handout = request_transfer(
        session,
        caller,
        message.agreementId,
        rules,
        transfer_format=message.format,
        consumer_pid=message.consumerPid,
        callback_address=message.callbackAddress,
    )
    if handout.address is not None:  # a new transfer (the same consumerPid again sends nothing)
        send_start(handout.transfer, handout.address)
    return handout


def found(session: Session, caller: Caller, pid: str) -> Transfer:
    """The transfer a providerPid names, if the caller may see it."""
    return visible_transfer(session, caller, transfer_id_of(pid))


def _addressed(session: Session, caller: Caller, pid: str, message: ProtocolMessage) -> Transfer:
    """The transfer a message is for: its pids must be the transfer's."""
    message.check_context()
    transfer = found(session, caller, pid)
    if message.providerPid != transfer_pid(transfer):
        raise message_problem("the message's providerPid is not the transfer's", "providerPid", transfer_pid(transfer))
    if message.consumerPid != transfer.consumer_pid:
        raise message_problem("the message's consumerPid is not the transfer's", "consumerPid", "does not match")
    return transfer


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
    reason = message.reason_text()
    return take_step(session, caller, transfer.id, TransferAction.suspend, code=message.code, reason=reason)


def termination(session: Session, caller: Caller, pid: str, message: TransferTerminationIn) -> Transfer:
    """A TransferTerminationMessage, with its code and reasons (any running state -> TERMINATED)."""
    transfer = _addressed(session, caller, pid, message)
    reason = message.reason_text()
    return take_step(session, caller, transfer.id, TransferAction.terminate, code=message.code, reason=reason)
