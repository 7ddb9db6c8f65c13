"""Settings of the auth package."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "pdr-development-secret-do-not-use-in-production"  # noqa: S105 - refused in production


class AuthSettings(BaseSettings):
    """How callers prove who they are."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    # Keyed hash of API tokens at rest: a stolen table is useless without it. Changing it ends every token.
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    session_ttl_hours: int = 12
    # Password sign-in: after this many failures on one name from one address, that address waits this long, and
    # twice as long after each further failure, up to the cap. An address failing 4 times as often over all names
    # waits the window too.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_max_lockout_seconds: int = Field(default=86_400, ge=1)
    cookie_secure: bool = False

    @property
    def uses_default_secret(self) -> bool:
        """Whether the token hashing key is still the development default."""
        return self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
