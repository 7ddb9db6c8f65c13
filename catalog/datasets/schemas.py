"""API shapes of the catalog."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from registry.enums import Openness, Theme, UpdateCycle
from storage.inputs import HttpUrl
from storage.pages import Page

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,99}$"
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Distribution links: absolute http(s) URLs per RFC 3986, stored as given.
Url = HttpUrl
# A landing page is the same, in a column half the size.
LandingPage = Annotated[HttpUrl, Field(max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Coverage(_Strict):
    @model_validator(mode="after")
    def _ordered(self) -> _Coverage:
        start = getattr(self, "temporal_start", None)
        end = getattr(self, "temporal_end", None)
        if start is not None and end is not None and end < start:
            raise ValueError("temporal_end is before temporal_start")
        return self


class DatasetFields(_Coverage):
    """The catalog's own metadata of a dataset."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN, description="CKAN package name; generated if absent.")
    title: str = Field(min_length=1, max_length=300)
    title_en: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=20_000)
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)
    themes: list[Theme] = Field(default_factory=list, max_length=17)
    licence: str | None = Field(default=None, max_length=100)
    access: Openness = Field(
        default=Openness.unconditional, description="Used when no registry record is linked; the resource's wins."
    )
    temporal_start: date | None = None
    temporal_end: date | None = None
    spatial: str | None = Field(default=None, max_length=300)
    update_frequency: UpdateCycle | None = None
    resource_id: str | None = Field(default=None, max_length=26, description="The registered data resource.")
    landing_page: LandingPage | None = None


class DatasetCreate(DatasetFields):
    """A new dataset; staff name the publishing entity, providers publish for their own."""

    entity_id: str | None = Field(default=None, max_length=26)


class DatasetUpdate(_Coverage):
    """Fields to change; absent fields stay as they are."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    title: str | None = Field(default=None, min_length=1, max_length=300)
    title_en: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    keywords: list[Keyword] | None = Field(default=None, max_length=50)
    themes: list[Theme] | None = Field(default=None, max_length=17)
    licence: str | None = Field(default=None, max_length=100)
    access: Openness | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    spatial: str | None = Field(default=None, max_length=300)
    update_frequency: UpdateCycle | None = None
    resource_id: str | None = Field(default=None, max_length=26)
    landing_page: LandingPage | None = None


class DistributionCreate(_Strict):
    """A distribution given as a link."""

    name: str = Field(min_length=1, max_length=300)
    url: Url
    format: str | None = Field(default=None, max_length=40)
    media_type: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)


class StateChange(_Strict):
    """Why a dataset is withdrawn, or what a new version brings."""

    reason: str | None = Field(default=None, max_length=2000)


class DistributionPublic(BaseModel):
    """A distribution link."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    name: str
    url: str
    format: str | None
    media_type: str | None
    description: str | None
    created_at: datetime


class VersionFile(BaseModel):
    """A payload file of a version, as the dataset's view lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


class VersionPublic(BaseModel):
    """A version with its files."""

    version: int
    state: str
    notes: str | None
    created_at: datetime
    published_at: datetime | None
    files: list[VersionFile] = Field(default_factory=list)


class Publisher(BaseModel):
    """The entity that publishes a dataset."""

    id: str
    name: str
    name_en: str | None = None


class CertificateRef(BaseModel):
    """A certificate issued for the linked registry record."""

    number: str
    status: str


class RegistryLink(BaseModel):
    """The registry record behind a dataset."""

    resource_id: str
    resource_code: str
    resource_status: str
    registered: bool
    registration_code: str | None
    certificates: list[CertificateRef] = Field(default_factory=list)


class DatasetPublic(BaseModel):
    """A dataset as the catalog shows it."""

    id: str
    name: str
    title: str
    title_en: str | None
    description: str
    keywords: list[str]
    themes: list[str]
    publisher: Publisher
    licence: str | None
    access: str
    temporal_start: date | None
    temporal_end: date | None
    spatial: str | None
    update_frequency: str | None
    landing_page: str | None
    state: str
    version: int
    formats: list[str]
    issued_at: datetime | None
    modified_at: datetime
    created_at: datetime
    registry: RegistryLink | None
    distributions: list[DistributionPublic] = Field(default_factory=list)
    versions: list[VersionPublic] | None = None
    score: int | None = Field(default=None, description="Relevance of a search hit (higher first).")


class FacetValuePublic(BaseModel):
    """One facet value and its count in the filtered result set."""

    value: str
    count: int
    label: str | None = None


class DatasetsPublic(Page[DatasetPublic]):
    """A page of search results, with facet counts."""

    facets: dict[str, list[FacetValuePublic]] = Field(default_factory=dict)
