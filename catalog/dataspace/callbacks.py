"""Messages pdr sends a consumer's callback address: a pull transfer's TransferStartMessage with its data address,
and the provider's negotiation messages (offers, the agreement, FINALIZED, a termination).

Each is sent once, after its step is committed; a consumer that missed one reads the state with GET, and gets a new
transfer token from `POST /api/v1/transfers/{id}/token`. What was sent where is logged, never a token.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any
from urllib.parse import quote

from catalog.dataspace.models import Transfer
from catalog.dataspace.transfer import TransferAction
from catalog.dataspace.transfer_protocol import step_message

log = logging.getLogger("pdr.dataspace.callbacks")
CALLBACK_TIMEOUT_SECONDS = 5.0


def start_url(callback_address: str, consumer_pid: str) -> str:
    """Where the binding says a start message goes: <callback>/transfers/:consumerPid/start."""
    return f"{callback_address.rstrip('/')}/transfers/{quote(consumer_pid, safe='')}/start"


def send_start(transfer: Transfer, address: dict[str, Any]) -> None:
    """Queue the transfer's start message, with its data address, for the consumer's callback."""
    if transfer.callback_address:
        url = start_url(transfer.callback_address, transfer.consumer_pid)
        send_in_order([(url, step_message(transfer, TransferAction.start, address=address))])


# Where the binding sends the provider's negotiation messages, below <callback>/negotiations/:consumerPid/.
NEGOTIATION_PATHS = {
    "ContractOfferMessage": "offers",
    "ContractAgreementMessage": "agreement",
    "ContractNegotiationEventMessage": "events",
    "ContractNegotiationTerminationMessage": "termination",
}
OUTBOX = "pdr_negotiation_callbacks"


def negotiation_url(callback_address: str, consumer_pid: str, message_type: str) -> str:
    """Where a provider's negotiation message goes: <callback>/negotiations/:consumerPid/<its path>."""
    base = f"{callback_address.rstrip('/')}/negotiations/{quote(consumer_pid, safe='')}"
    return f"{base}/{NEGOTIATION_PATHS[message_type]}"


class _Sender:
    """One thread a process that posts queued messages one after the other, so that they arrive in the order their
    steps were committed."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Queue messages, starting the thread the first time."""
        for message in messages:
            self._queue.put(message)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pdr-negotiation-callbacks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        # Imported by the sending thread: a worker that never sends a callback does not hold httpx, whose command
        # line (rich, click, Pygments) comes with it where those are installed.
        import httpx

        while True:
            url, message = self._queue.get()
            try:
                answer = httpx.post(url, json=message, timeout=CALLBACK_TIMEOUT_SECONDS)
            except httpx.HTTPError as error:
                log.warning("a %s could not reach its callback: %s", message.get("@type"), type(error).__name__)
                continue
            if not answer.is_success:
                log.warning("the callback answered a %s with %d", message.get("@type"), answer.status_code)


_SENDER = _Sender()


def send_in_order(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """POST messages to their URLs after every message queued before them, from the process's sending thread."""
    if messages:
        _SENDER.put(messages)
