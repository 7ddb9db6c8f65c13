"""API token material: generation, the visible prefix, and the keyed hash kept at rest."""

from __future__ import annotations

import hmac
import secrets

TOKEN_SCHEME = "pdr_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = len(TOKEN_SCHEME) + 8


def generate_token() -> str:
    """A new token: a fixed scheme marker and 256 random bits, URL-safe."""
    return TOKEN_SCHEME + secrets.token_urlsafe(32)


def token_prefix(token: str) -> str:
    """The visible start of a token, enough to tell tokens apart and nothing more."""
    return token[:PREFIX_LENGTH]


def hash_token(token: str, secret_key: str) -> str:
    """HMAC-SHA-256 of the token under the service's secret, as hex."""
    # hmac.digest: OpenSSL's one-shot HMAC, several times cheaper than building an hmac object; the same digest.
    return hmac.digest(secret_key.encode(), token.encode(), "sha256").hex()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before touching the database."""
    return value.startswith(TOKEN_SCHEME) and 40 <= len(value) <= 100
