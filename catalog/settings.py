"""All settings of pdr in one place: each package's own class, aggregated for the composition root."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.config import AuthSettings
from catalog.config import CatalogSettings
from registry.config import DEFAULT_ISSUER_NAME, IssuerName, RegistrySettings, log_origin
from storage.config import StorageSettings
from storage.db import DatabaseSettings
from storage.inputs import control_character, control_message

if TYPE_CHECKING:
    from registry.keys import KeyRing


class Environment(StrEnum):
    """Where pdr runs: development tolerates default secrets, production does not."""

    development = "development"
    production = "production"


class UnsafeSettings(RuntimeError):
    """Production mode was asked for with settings that are only safe in development."""


# A production secret has at least this many bytes, and at least this many bits by a character-frequency estimate
# (a random hex string of 32 digits has about 115; "aaaa...abcdefgh" of the same length has 44).
MIN_SECRET_BYTES = 32
MIN_SECRET_BITS = 64


def _estimated_bits(value: str) -> float:
    """Shannon entropy of the value's own character frequencies, times its length: a low bar, cheaply checked."""
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


def _repeats_a_unit(value: str) -> bool:
    """Whether the value is a short piece written at least twice over ("abcabcabc", "Passw0rd!Passw0rd!")."""
    longest = min(len(value) // 2, 64)
    return any(all(value[i] == value[i + p] for i in range(len(value) - p)) for p in range(1, longest + 1))


def _mostly_runs(value: str) -> bool:
    """Whether most neighbouring characters are equal or consecutive ("aaaa", "abcdef", "123456", "zyxw")."""
    steps = [abs(ord(b) - ord(a)) <= 1 for a, b in itertools.pairwise(value)]
    return bool(steps) and sum(steps) * 2 > len(steps)


def secret_weakness(value: str) -> str | None:
    """Why a secret is too weak for production ("shorter than 32 bytes", "of low variety"), or None."""
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"shorter than {MIN_SECRET_BYTES} bytes"
    if _estimated_bits(value) < MIN_SECRET_BITS or _repeats_a_unit(value) or _mostly_runs(value):
        return "of low variety (a repeated pattern, a run of characters, or few distinct characters)"
    return None


class Settings(BaseSettings):
    """The service's settings, read from PDR_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    env: Environment = Environment.development
    base_url: str = "http://127.0.0.1:8000"
    log_format: str = Field(default="text", pattern="^(text|json)$")
    log_level: str = "INFO"
    key_passphrase: SecretStr | None = None
    max_request_body_bytes: int = 1024 * 1024
    # On SIGTERM: how long /readyz answers 503 while the server still accepts requests (a load balancer's polling
    # interval), then how long requests in flight (downloads, uploads) may take to finish before they are cut.
    shutdown_drain_seconds: float = Field(default=0.0, ge=0, le=300)
    shutdown_timeout_seconds: int = Field(default=30, ge=1, le=3600)
    # The issuing body that newly issued certificates name (the credential's issuer, the PDF, the verify page).
    issuer_name: str = Field(default=DEFAULT_ISSUER_NAME.zh, min_length=1, max_length=60)
    issuer_name_en: str = Field(default=DEFAULT_ISSUER_NAME.en, min_length=1, max_length=120)

    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    objects: StorageSettings = Field(default_factory=StorageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)

    @field_validator("issuer_name", "issuer_name_en")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        """A name printed on certificates: trimmed, not blank, without control characters."""
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        if bad := control_character(value):
            raise ValueError(control_message(bad))
        return value

    def issuer(self) -> IssuerName:
        """The name newly issued certificates give their issuing body, in Chinese and English."""
        return IssuerName(zh=self.issuer_name, en=self.issuer_name_en)

    @property
    def log_origin(self) -> str:
        """The transparency log's origin: set explicitly, or derived from the public URL."""
        return self.registry.log_origin or log_origin(self.base_url)

    @property
    def passphrase(self) -> str | None:
        """The key passphrase, if one is set."""
        return self.key_passphrase.get_secret_value() if self.key_passphrase else None

    def keyring(self) -> KeyRing:
        """A key ring for these settings; production refuses unencrypted keys."""
        # Deferred: the keys' module brings the cryptography stack and the tables, which commands that only read
        # settings (`pdr accounts create`) do not need.
        from registry.keys import KeyRing

        return KeyRing(passphrase=self.passphrase, require_encrypted=self.env == Environment.production)

    def unsafe_for_production(self) -> list[str]:
        """What keeps these settings from being safe in production; empty when nothing does."""
        problems = []
        if self.auth.uses_default_secret:
            problems.append("PDR_SECRET_KEY is the development default")
        elif weakness := secret_weakness(self.auth.secret_key.get_secret_value()):
            problems.append(f"PDR_SECRET_KEY is {weakness}")
        if self.key_passphrase is None or not self.key_passphrase.get_secret_value():
            problems.append("PDR_KEY_PASSPHRASE is not set, so signing keys would be stored unencrypted")
        elif weakness := secret_weakness(self.key_passphrase.get_secret_value()):
            problems.append(f"PDR_KEY_PASSPHRASE is {weakness}")
        if not self.base_url.startswith("https://"):
            problems.append("PDR_BASE_URL is not an https:// URL")
        return problems

    def check(self) -> None:
        """Refuse to run production mode on development-only settings."""
        if self.env == Environment.production:
            problems = self.unsafe_for_production()
            if problems:
                raise UnsafeSettings("refusing to start in production: " + "; ".join(problems))
