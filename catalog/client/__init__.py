"""pdr's client: the Python SDK (`PdrClient`) and the `pdrc` command for consumers and providers."""

from catalog.client.errors import ApiError, ClientError
from catalog.client.sdk import PdrClient

__all__ = ["ApiError", "ClientError", "PdrClient"]
