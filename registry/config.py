"""Settings of the registry package: procedure lengths and the codes it issues."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrySettings(BaseSettings):
    """The registration procedure's limits (Fujian's practice by default) and the registry's own code."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    accept_working_days: int = Field(default=3, ge=1, le=60)
    notice_working_days: int = Field(default=10, ge=0, le=60)
    # Assumed: Guangdong renews results, but no text fixes the period.
    registration_validity_years: int = Field(default=3, ge=1, le=30)
    registry_code: str = Field(default="4401", pattern=r"^[0-9]{4}$")
    # An operator's holiday table (JSON: {"holidays": [...], "workdays": [...]}) on top of the official one.
    holiday_table: Path | None = None
    # The transparency log's origin line; by default derived from PDR_BASE_URL (host and path, plus /log).
    log_origin: str | None = Field(default=None, pattern=r"^[^\s+—]+$")
    # Certificates are valid this long unless the authorisation behind them ends earlier.
    certificate_validity_years: int = Field(default=3, ge=1, le=30)
    # Objections without an account, per client address and hour: anyone may object, nobody may flood the staff.
    anonymous_objections_per_hour: int = Field(default=5, ge=1, le=1000)
