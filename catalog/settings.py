"""All settings of pdr in one place: each package's own class, aggregated for the composition root."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.config import AuthSettings
from catalog.config import CatalogSettings
from registry.config import RegistrySettings
from registry.keys import KeyRing, log_origin
from storage.config import StorageSettings
from storage.db import DatabaseSettings


class Environment(StrEnum):
    """Where pdr runs: development tolerates default secrets, production does not."""

    development = "development"
    production = "production"


class UnsafeSettings(RuntimeError):
    """Production mode was asked for with settings that are only safe in development."""


class Settings(BaseSettings):
    """The service's settings, read from PDR_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    env: Environment = Environment.development
    base_url: str = "http://127.0.0.1:8000"
    log_format: str = Field(default="text", pattern="^(text|json)$")
    log_level: str = "INFO"
    key_passphrase: SecretStr | None = None
    max_request_body_bytes: int = 1024 * 1024

    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    objects: StorageSettings = Field(default_factory=StorageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)

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
        return KeyRing(passphrase=self.passphrase, require_encrypted=self.env == Environment.production)

    def unsafe_for_production(self) -> list[str]:
        """What keeps these settings from being safe in production; empty when nothing does."""
        problems = []
        if self.auth.uses_default_secret:
            problems.append("PDR_SECRET_KEY is the development default")
        if self.key_passphrase is None or not self.key_passphrase.get_secret_value():
            problems.append("PDR_KEY_PASSPHRASE is not set, so signing keys would be stored unencrypted")
        if not self.base_url.startswith("https://"):
            problems.append("PDR_BASE_URL is not an https:// URL")
        return problems

    def check(self) -> None:
        """Refuse to run production mode on development-only settings."""
        if self.env == Environment.production:
            problems = self.unsafe_for_production()
            if problems:
                raise UnsafeSettings("refusing to start in production: " + "; ".join(problems))
