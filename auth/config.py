"""Settings of the auth package."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "pdr-development-secret-do-not-use-in-production"  # noqa: S105 - refused in production


class AuthSettings(BaseSettings):
    """How callers prove who they are."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    # Keyed hash of API tokens at rest: a stolen table is useless without it. Changing it ends every token.
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    session_ttl_hours: int = 12
    login_max_failures: int = 5
    login_window_seconds: int = 900
    cookie_secure: bool = False

    @property
    def uses_default_secret(self) -> bool:
        """Whether the token hashing key is still the development default."""
        return self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
