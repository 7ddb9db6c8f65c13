"""What else happens when an access request is filed or decided, in the request's own transaction.

The exchange does not know the layers above it; the composition root (catalog.app) registers their listeners here.
The data space's listener mirrors each dataset request as a contract negotiation (catalog.dataspace.request_mirror).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from sqlmodel import Session

from auth.caller import Caller
from catalog.exchange.models import AccessRequest


class RequestEvent(StrEnum):
    """What happened to a request."""

    filed = "filed"
    provider_approved = "provider_approved"  # waiting for an operator's second
    approved = "approved"  # its grant exists
    rejected = "rejected"


Listener = Callable[[Session, Caller, AccessRequest, RequestEvent], None]
_listeners: dict[str, Listener] = {}


def listen(name: str, listener: Listener) -> None:
    """Register a listener under a name; registering the name again replaces it (one per layer, however many apps)."""
    _listeners[name] = listener


def announce(session: Session, caller: Caller, request: AccessRequest, event: RequestEvent) -> None:
    """Tell every listener, before the request's transaction commits."""
    for listener in list(_listeners.values()):
        listener(session, caller, request, event)
