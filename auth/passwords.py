"""Password hashing for web sign-in (argon2 through pwdlib)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

MIN_PASSWORD_LENGTH = 12

# Verifying against this when the account does not exist keeps both paths equally slow.
_EQUALISER_SOURCE = "pdr-timing-equaliser"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches; takes as long when there is no hash to compare with."""
    if password_hash is None:
        _hasher().verify(password, _equaliser_hash())
        return False
    return _hasher().verify(password, password_hash)


@lru_cache(maxsize=1)
def _equaliser_hash() -> str:
    return _hasher().hash(_EQUALISER_SOURCE)
