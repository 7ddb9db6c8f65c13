"""Messages pdr sends a consumer's callback address: a pull transfer's TransferStartMessage with its data address.

Sent after the transfer is committed, once; a consumer that missed it gets a new token from
`POST /api/v1/transfers/{id}/token`. What was sent where is logged, never the token.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from catalog.dataspace.models import Transfer
from catalog.dataspace.transfer import TransferAction
from catalog.dataspace.transfer_protocol import step_message

log = logging.getLogger("pdr.dataspace.callbacks")
CALLBACK_TIMEOUT = httpx.Timeout(5.0)


def start_url(callback_address: str, consumer_pid: str) -> str:
    """Where the binding says a start message goes: <callback>/transfers/:consumerPid/start."""
    return f"{callback_address.rstrip('/')}/transfers/{quote(consumer_pid, safe='')}/start"


def send_start(transfer: Transfer, address: dict[str, Any]) -> None:
    """POST the transfer's start message, with its data address, to the consumer's callback; log how it went."""
    if not transfer.callback_address:
        return
    url = start_url(transfer.callback_address, transfer.consumer_pid)
    message = step_message(transfer, TransferAction.start, address=address)
    try:
        answer = httpx.post(url, json=message, timeout=CALLBACK_TIMEOUT)
    except httpx.HTTPError as error:
        log.warning(
            "transfer %s: its start message could not reach the callback: %s", transfer.id, type(error).__name__
        )
        return
    if answer.is_success:
        log.info("transfer %s: start message delivered to the callback", transfer.id)
    else:
        log.warning("transfer %s: the callback answered its start message with %d", transfer.id, answer.status_code)
