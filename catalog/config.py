"""Settings of the catalog: search limits, DCAT paging and bulk import (environment prefix PDR_)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    """How the catalog searches, pages and imports."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    # Values shown per facet field unless the request asks for another number.
    facet_limit: int = Field(default=20, ge=1, le=1000)
    # Build each process's search mirror in the background at start-up, so no request waits for it.
    search_warm_up: bool = True
    # Datasets per page of the DCAT catalog documents.
    dcat_page_size: int = Field(default=100, ge=1, le=1000)
    # Rows written per transaction by the bulk importer.
    import_batch_size: int = Field(default=1000, ge=1, le=100_000)
    # The name and description the catalog gives itself in DCAT and CKAN's status_show.
    catalog_title: str = "公共数据目录"
    catalog_title_en: str = "Public data catalog"
    catalog_description: str = "广州公共数据登记与开放目录。"
    catalog_publisher_name: str = "公共数据登记机构"
    # Exchange: whether an operator must second a provider's approval before a grant exists (assumed, off).
    access_operator_second: bool = False
    # The highest price (CNY) an industry listing of a public-data product may ask; set by the authorising body.
    listing_fee_cap: Decimal = Field(default=Decimal("10000.00"), ge=0, max_digits=14, decimal_places=2)
    # Data space: agree and finalize a contract negotiation without the provider when a consumer takes a free
    # public-welfare offer as it stands (off: the provider's members agree by hand).
    negotiation_auto_agree: bool = False
    # Data space transfers: how long a transfer's access token lasts (a refresh hands out a new one), how often a
    # transfer's download in progress checks that its agreement still holds, and how often each worker's policy
    # monitor looks for transfers whose agreement ran out.
    transfer_token_seconds: int = Field(default=600, ge=30, le=86_400)
    transfer_check_seconds: float = Field(default=1.0, gt=0, le=60)
    transfer_monitor_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Data services: how long pdr waits for a provider's service to answer a forwarded call, and the largest call
    # body it forwards.
    service_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    service_max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=0, le=1024 * 1024 * 1024)
