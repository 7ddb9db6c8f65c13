"""Settings of the object store (environment prefix PDR_)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from storage.objects import ObjectStore


def default_storage_url() -> str:
    """file:// URL of ./var/objects, resolved against the working directory when settings are made."""
    return Path("var", "objects").resolve().as_uri()


class StorageSettings(BaseSettings):
    """Where objects live, the S3 credentials, and the upload limits."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    storage_url: str = Field(default_factory=default_storage_url)
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    max_upload_bytes: int = 10 * 1024**3
    temporary_max_age_seconds: int = 86400
    # Unreferenced objects younger than this survive `pdr storage gc`: an upload may be about to record them.
    gc_grace_seconds: int = 3600
    # auto: presigned redirect on S3, streamed from disk on file://; proxy: always through the service;
    # accel: the service checks permissions and hands the bytes to nginx with X-Accel-Redirect.
    download_mode: Literal["auto", "proxy", "accel"] = "auto"
    accel_redirect_prefix: str = "/_pdr_objects"
    presigned_url_seconds: int = 300
    # Uploads in progress at once in one process, in total and per account; the next one is refused (503, or 429
    # for the account's own bound) before a byte of it is read. Each holds a thread of the uploads' own (never one
    # of the pool that serves reads), a temporary object, and on S3 up to two 8 MiB parts of memory.
    upload_slots: int = Field(default=16, ge=1)
    upload_slots_per_account: int = Field(default=4, ge=1)
    # A body that sends no byte for this long is cut (408), and so is one slower on average than the minimum rate
    # (bytes per second; 0: none) once the grace period is over. Only time spent waiting for the client counts.
    upload_idle_timeout_seconds: float = Field(default=30.0, gt=0)
    upload_min_bytes_per_second: int = Field(default=8192, ge=0)
    upload_rate_grace_seconds: float = Field(default=30.0, ge=0)

    def open_store(self) -> ObjectStore:
        """Build the object store these settings describe (no I/O until it is used)."""
        # Deferred: the S3 backend's client library (minio) is heavy, and commands that only read settings skip it.
        from storage.stores import open_object_store

        return open_object_store(
            self.storage_url,
            access_key=_reveal(self.s3_access_key),
            secret_key=_reveal(self.s3_secret_key),
            region=self.s3_region,
        )


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
