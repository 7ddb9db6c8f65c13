"""The registry's signing keys: a log key (C2SP note key named by the log origin) and issuer keys (did:key).

Private keys are stored as PKCS#8, encrypted with PDR_KEY_PASSPHRASE. Issuer keys rotate: the newest one
signs, older ones stay published so that credentials they signed keep verifying.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import ScalarSelect
from sqlmodel import Session, col, select

from registry.credentials import did_key_from_public_key
from registry.models import SigningKey
from registry.note import vkey_string
from storage.db import now_of
from storage.exceptions import ServiceUnavailable

LOG = "log"
ISSUER = "issuer"

# A key that signs, and its opened private half.
Signer = tuple[SigningKey, Ed25519PrivateKey]


class KeysMissing(ServiceUnavailable):
    """The registry cannot sign because its keys were never created."""

    def __init__(self, purpose: str) -> None:
        super().__init__(f"the registry has no {purpose} key yet; an operator must run `pdr init`")


class KeyLocked(ServiceUnavailable):
    """A private key cannot be opened with the configured passphrase (or is unencrypted where that is refused)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


def _private_pem(private_key: Ed25519PrivateKey, passphrase: str | None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _new_key(purpose: str, name_for: str | None, passphrase: str | None, created_at: datetime) -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    name = name_for or did_key_from_public_key(private_key.public_key())
    return SigningKey(
        purpose=purpose,
        name=name,
        public_key=_raw_public(private_key),
        private_key_pem=_private_pem(private_key, passphrase),
        encrypted=bool(passphrase),
        created_at=created_at,
    )


def active_key(session: Session, purpose: str) -> SigningKey | None:
    """The key that signs now for a purpose."""
    return active_keys(session, [purpose]).get(purpose)


def active_key_id(purpose: str) -> ScalarSelect[str]:
    """The id of the key that signs now for a purpose (the newest not retired), as a subquery to read with other
    things."""
    return (
        select(col(SigningKey.id))
        .where(col(SigningKey.purpose) == purpose, col(SigningKey.retired_at).is_(None))
        .order_by(col(SigningKey.created_at).desc())
        .limit(1)
        .scalar_subquery()
    )


def active_keys(session: Session, purposes: Sequence[str]) -> dict[str, SigningKey]:
    """The keys that sign now for several purposes (each the newest not retired), in one query; a purpose without
    one is left out."""
    found: dict[str, SigningKey] = {}
    rows = session.exec(
        select(SigningKey)
        .where(col(SigningKey.purpose).in_(purposes), col(SigningKey.retired_at).is_(None))
        .order_by(col(SigningKey.created_at).desc())
    )
    for key in rows:
        found.setdefault(key.purpose, key)
    return found


def published_keys(session: Session, purpose: str) -> list[SigningKey]:
    """Every key of a purpose, newest first, retired ones included (they still verify old signatures)."""
    return list(
        session.exec(
            select(SigningKey).where(SigningKey.purpose == purpose).order_by(col(SigningKey.created_at).desc())
        ).all()
    )


def init_keys(session: Session, origin: str, passphrase: str | None) -> list[SigningKey]:
    """Create the log key and an issuer key where they do not exist yet; returns the keys created."""
    created = []
    if active_key(session, LOG) is None:
        created.append(_new_key(LOG, origin, passphrase, now_of(session)))
    if active_key(session, ISSUER) is None:
        created.append(_new_key(ISSUER, None, passphrase, now_of(session)))
    for key in created:
        session.add(key)
    session.commit()
    return created


def rotate_issuer(session: Session, passphrase: str | None) -> SigningKey:
    """Retire the signing issuer key and make a new one; old credentials keep verifying."""
    now = now_of(session)
    current = active_key(session, ISSUER)
    if current is not None:
        current.retired_at = now
        session.add(current)
    key = _new_key(ISSUER, None, passphrase, now)
    session.add(key)
    session.commit()
    return key


def public_key_of(key: SigningKey) -> Ed25519PublicKey:
    """The public half of a stored key."""
    return Ed25519PublicKey.from_public_bytes(key.public_key)


def log_vkey(key: SigningKey) -> str:
    """The C2SP verifier key of the log key."""
    return vkey_string(key.name, public_key_of(key))


def open_private_key(key: SigningKey, passphrase: str | None, *, require_encrypted: bool) -> Ed25519PrivateKey:
    """Decrypt a stored private key; refuses unencrypted keys where encryption is required."""
    if require_encrypted and not key.encrypted:
        raise KeyLocked(f"the {key.purpose} key is stored unencrypted, which production mode refuses")
    try:
        private_key = serialization.load_pem_private_key(
            key.private_key_pem.encode(), password=passphrase.encode() if key.encrypted and passphrase else None
        )
    except (ValueError, TypeError) as exc:
        raise KeyLocked(f"the {key.purpose} key cannot be opened with PDR_KEY_PASSPHRASE") from exc
    if not isinstance(private_key, Ed25519PrivateKey) or _raw_public(private_key) != key.public_key:
        raise KeyLocked(f"the stored {key.purpose} key is not the Ed25519 key it claims to be")
    return private_key


@dataclass
class KeyRing:
    """Opened private keys, cached per process: decrypting PKCS#8 is deliberately slow."""

    passphrase: str | None
    require_encrypted: bool

    def __post_init__(self) -> None:
        self._opened: dict[str, Ed25519PrivateKey] = {}
        # Key rows by id, as first read: a key's id, name and halves never change (only `retired_at`, which the
        # caller's own read of the active ids already took into account).
        self._rows: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def signer(self, session: Session, purpose: str) -> Signer:
        """The active key of a purpose and its opened private key."""
        return self._opened_signer(active_key(session, purpose), purpose)

    def signers(self, session: Session, purposes: Sequence[str]) -> dict[str, Signer]:
        """The active keys of several purposes, read in one query, with their opened private keys; refused for the
        first purpose, in the order given, whose key is missing or does not open."""
        active = active_keys(session, purposes)
        return {purpose: self._opened_signer(active.get(purpose), purpose) for purpose in purposes}

    def signers_by_id(self, session: Session, active_ids: dict[str, str], purposes: Sequence[str]) -> dict[str, Signer]:
        """The signers of several purposes whose active keys' ids the caller has read, from the keys this ring has
        seen (reading only those it has not); refused as `signers` refuses."""
        missing = [key_id for key_id in active_ids.values() if key_id not in self._rows]
        if missing:
            for key in session.exec(select(SigningKey).where(col(SigningKey.id).in_(missing))):
                self._remember(key)
        return {
            purpose: self._opened_signer(self._rows.get(active_ids.get(purpose, "")), purpose) for purpose in purposes
        }

    def _remember(self, key: SigningKey) -> None:
        """Keep a copy of a key's row, bound to no session."""
        self._rows[key.id] = SigningKey(**key.model_dump())

    def _opened_signer(self, key: SigningKey | None, purpose: str) -> Signer:
        if key is None:
            raise KeysMissing(purpose)
        if key.id not in self._rows:
            self._remember(key)
        with self._lock:
            private_key = self._opened.get(key.id)
            if private_key is None:
                private_key = open_private_key(key, self.passphrase, require_encrypted=self.require_encrypted)
                self._opened[key.id] = private_key
        return key, private_key


def readiness(session: Session, keyring: KeyRing) -> str:
    """ "ok" when the log and issuer keys exist and open as signing needs them; otherwise what an operator must do."""
    try:
        for purpose in (LOG, ISSUER):
            keyring.signer(session, purpose)
    except (KeysMissing, KeyLocked) as exc:
        return exc.detail
    return "ok"
