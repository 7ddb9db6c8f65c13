"""The Dataspace Protocol's transfer messages as pdr writes them, each valid against the protocol's JSON schema.

A pull transfer's data address carries its access token once, in the answer that hands it out; the steps on
record keep the address without it (tokens are kept as keyed hashes only).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog.dataspace.documents import DSPACE_CONTEXT
from catalog.dataspace.models import Transfer
from catalog.dataspace.transfer import TransferAction, TransferState

TRANSFER_PREFIX = "urn:pdr:transfer:"
HTTP_ENDPOINT = "https://w3id.org/idsa/v4.1/HTTP"


def transfer_pid(transfer: Transfer) -> str:
    """pdr's identifier of a transfer in the protocol (its providerPid)."""
    return TRANSFER_PREFIX + transfer.id


def transfer_id_of(pid: str) -> str:
    """The row id behind a providerPid (the bare id is accepted too)."""
    return pid.removeprefix(TRANSFER_PREFIX)


def data_endpoint(base_url: str, transfer: Transfer) -> str:
    """Where the consumer pulls the transfer's files: a listing, each file under it."""
    return f"{base_url}/api/v1/transfers/{transfer.id}/data"


def data_address(base_url: str, transfer: Transfer, token: str | None, expires_at: datetime) -> dict[str, Any]:
    """The DataAddress of a pull transfer: the endpoint, the bearer token (when it is being handed out), its expiry."""
    properties = [
        {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
        {"@type": "EndpointProperty", "name": "expiresAt", "value": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    ]
    if token is not None:
        properties.insert(0, {"@type": "EndpointProperty", "name": "authorization", "value": token})
    return {
        "@type": "DataAddress",
        "endpointType": HTTP_ENDPOINT,
        "endpoint": data_endpoint(base_url, transfer),
        "endpointProperties": properties,
    }


def _head(message_type: str, transfer: Transfer) -> dict[str, Any]:
    return {
        "@context": [DSPACE_CONTEXT],
        "@type": message_type,
        "providerPid": transfer_pid(transfer),
        "consumerPid": transfer.consumer_pid,
    }


def transfer_document(transfer: Transfer) -> dict[str, Any]:
    """The TransferProcess: the acknowledgement of every message, and what GET answers."""
    return {**_head("TransferProcess", transfer), "state": transfer.state}


def step_message(
    transfer: Transfer,
    step: TransferAction,
    *,
    agreement_iri: str = "",
    address: dict[str, Any] | None = None,
    code: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The protocol message a step is, written after the step has changed the transfer."""
    if step == TransferAction.request:
        message = _head("TransferRequestMessage", transfer)
        del message["providerPid"]  # the consumer's request knows no providerPid yet
        message.update(agreementId=agreement_iri, format=transfer.format)
        message["callbackAddress"] = transfer.callback_address or ""
        return message
    message = _head(_MESSAGE_TYPES[step], transfer)
    if step == TransferAction.start and address is not None:
        message["dataAddress"] = address
    if step in (TransferAction.suspend, TransferAction.terminate):
        if code:
            message["code"] = code
        if reason:
            message["reason"] = [reason]
    return message


_MESSAGE_TYPES: dict[TransferAction, str] = {
    TransferAction.start: "TransferStartMessage",
    TransferAction.suspend: "TransferSuspensionMessage",
    TransferAction.complete: "TransferCompletionMessage",
    TransferAction.terminate: "TransferTerminationMessage",
}


def transfer_error(status: int, reasons: Sequence[str], *, provider: str = "", consumer: str = "") -> dict[str, Any]:
    """A TransferError: the HTTP status as its code, what went wrong, and the pids when known."""
    return {
        "@context": [DSPACE_CONTEXT],
        "@type": "TransferError",
        "providerPid": provider,
        "consumerPid": consumer,
        "code": str(status),
        "reason": list(reasons) or ["the message was refused"],
    }


def state_of(transfer: Transfer) -> TransferState:
    """The transfer's state as the enumeration."""
    return TransferState(transfer.state)
