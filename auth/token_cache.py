"""Tokens checked in the last second, kept per process so that a busy caller's requests skip the database.

An entry lives at most `TTL_SECONDS`: a token revoked (or an account deactivated) in another process stops working
here within that time, and one revoked in this process stops at once. Entries are keyed by the token's keyed hash,
never by the secret, and checked for expiry on every use.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from auth.models import Account
from auth.roles import Role
from auth.schemas import AccountPublic

TTL_SECONDS = 1.0
# Enough for every active caller of a busy worker; when full, the oldest entries go first.
MAX_ENTRIES = 10_000
# A provider without its entity is between registering it and acting for it: never cached, so that the entity it
# gets is seen at once by every process. (Only a provider's registration gives an account its entity.)
_NEEDS_ENTITY = (Role.provider,)


@dataclass(frozen=True)
class Credential:
    """What a checked token said of its caller: its id and expiry, the account (also rendered as `/me` answers it,
    once per check rather than once per request), and when it was checked."""

    token_id: str
    expires_at: datetime | None
    account: AccountPublic
    checked_at: float
    account_json: bytes


def account_json(account: Account | AccountPublic) -> bytes:
    """An account as `/me` answers it."""
    return AccountPublic.model_validate(account).model_dump_json().encode()


def cacheable(account: Account) -> bool:
    """Whether the account's tokens may be cached: active, and not waiting for its entity."""
    return account.is_active and not (Role(account.role) in _NEEDS_ENTITY and account.entity_id is None)


class TokenCache:
    """A bounded map from a token's keyed hash to its credential, each entry trusted for `ttl` seconds."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[str, Credential] = {}
        self._lock = threading.Lock()

    def get(self, digest: str, now: datetime) -> Credential | None:
        """The credential of a token checked within the last `ttl` seconds and not expired at `now`; else None."""
        found = self._entries.get(digest)
        if found is None:
            return None
        if time.monotonic() - found.checked_at >= self._ttl or (
            found.expires_at is not None and found.expires_at <= now
        ):
            self._entries.pop(digest, None)
            return None
        return found

    def put(self, digest: str, token_id: str, expires_at: datetime | None, account: Account) -> None:
        """Remember a token just checked against the database, if its account may be cached."""
        if not cacheable(account):
            return
        public = AccountPublic.model_validate(account)
        credential = Credential(token_id, expires_at, public, time.monotonic(), account_json(public))
        with self._lock:
            if len(self._entries) >= self._max_entries:
                for stale in list(self._entries)[: self._max_entries // 10 or 1]:
                    del self._entries[stale]
            self._entries[digest] = credential

    def forget_token(self, token_id: str) -> None:
        """Drop a token revoked in this process, so that it stops working here at once."""
        with self._lock:
            for digest in [d for d, c in self._entries.items() if c.token_id == token_id]:
                del self._entries[digest]

    def __len__(self) -> int:
        """How many tokens are cached now."""
        return len(self._entries)


# One per process: every app in the process shares it, as they share the database.
TOKENS = TokenCache()
