"""Settings of the registry package: procedure lengths and the codes it issues."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class IssuerName:
    """The issuing body's name in Chinese and in English, as newly issued credentials name their issuer."""

    zh: str
    en: str


# What a session bound without a name (a job, a benchmark) issues under; the service binds its setting.
DEFAULT_ISSUER_NAME = IssuerName(zh="公共数据登记机构", en="Public Data Registration Body")


def log_origin(base_url: str) -> str:
    """The log's origin line: the public URL without scheme, plus /log (e.g. ``registry.example/log``)."""
    parts = urlsplit(base_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


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
    # A verified entity's data space participant credential is valid this long (one year by default); verifying the
    # entity again issues a new one.
    participant_validity_days: int = Field(default=365, ge=1, le=3650)
    # Objections without an account, per client address and hour: anyone may object, nobody may flood the staff.
    anonymous_objections_per_hour: int = Field(default=5, ge=1, le=1000)
