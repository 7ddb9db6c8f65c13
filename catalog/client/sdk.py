"""The Python SDK: `PdrClient`, one typed method per use of the native API, over one `httpx.Client`.

>>> from catalog.client import PdrClient
>>> with PdrClient("https://data.example.gov.cn", token="...") as pdr:   # doctest: +SKIP
...     for dataset in pdr.iter_search("公交站点", theme=["transport"]):
...         print(dataset.title, dataset.formats)

Every answer is validated into the service's own response models; every refusal raises an
`catalog.client.errors.ApiError` that carries the RFC 9457 problem document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from catalog.client.errors import TransportError, raise_for_problem
from catalog.datasets.schemas import DatasetPublic, DatasetsPublic
from catalog.files.schemas import FilePublic

if TYPE_CHECKING:
    # The account, exchange and registry models are imported by the methods that use them: building them costs a
    # command-line start about 150 ms that a download or an upload never needs.
    from auth.schemas import AccountPublic, TokenCreated
    from catalog.exchange.schemas import AccessRequestPublic, DownloadPublic, GrantPublic
    from registry.schemas import CertificateBundle, RegistrationPublic

M = TypeVar("M", bound=BaseModel)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Filters the search takes as repeated values (`?theme=a&theme=b`).
_LIST_FILTERS = ("theme", "publisher", "format", "access", "licence", "tag", "facets")


def _user_agent() -> str:
    try:
        return f"pdr-client/{version('pdr')}"
    except PackageNotFoundError:
        return "pdr-client"


def segment(value: str) -> str:
    """One path segment, escaped, so an id can never change which path is asked for."""
    return quote(value, safe="")


class PdrClient:
    """A pdr service at `base_url`, as one account (by its API token) or anonymously."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        headers = {"User-Agent": _user_agent(), "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        # Redirects are followed (downloads may go to a presigned object-store URL); httpx drops the
        # Authorization header when a redirect leaves the service's origin.
        # `verify`: a CA bundle's path for a service whose certificate a private authority signed.
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
            verify=verify,
        )

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> PdrClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send one request; a refusal raises its ApiError and a broken connection a TransportError."""
        try:
            response = self.http.request(method, path, **options)
        except httpx.TransportError as error:
            raise TransportError(f"cannot reach {self.base_url}: {error.__class__.__name__}") from error
        raise_for_problem(response)
        return response

    def _get(self, model: type[M], path: str, params: Mapping[str, Any] | None = None) -> M:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _post(self, model: type[M], path: str, body: Mapping[str, Any] | None = None) -> M:
        return model.model_validate(self.request("POST", path, json=body).json())

    def pages(self, model: type[M], path: str, params: Mapping[str, Any] | None = None) -> Iterator[M]:
        """Every item of a list, page after page by its cursor."""
        query = dict(params or {})
        while True:
            body = self.request("GET", path, params=query).json()
            yield from (model.model_validate(item) for item in body["items"])
            if not body.get("next_cursor"):
                return
            query["cursor"] = body["next_cursor"]

    # ------------------------------------------------------------ account

    def me(self) -> AccountPublic:
        """The account the token belongs to."""
        from auth.schemas import AccountPublic

        return self._get(AccountPublic, "/api/v1/me")

    def login(self, name: str, password: str) -> TokenCreated:
        """Sign in with a password; returns a short-lived session token."""
        from auth.schemas import TokenCreated

        return self._post(TokenCreated, "/api/v1/login", {"name": name, "password": password})

    def create_token(self, name: str, *, expires_in_days: int | None = None) -> TokenCreated:
        """A new API token of the signed-in account; its secret is in the answer only."""
        from auth.schemas import TokenCreated

        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        return self._post(TokenCreated, "/api/v1/tokens", body)

    # ------------------------------------------------------------ catalog

    def search(
        self, q: str | None = None, *, limit: int = 20, cursor: str | None = None, **filters: Any
    ) -> DatasetsPublic:
        """One page of search results with facet counts; filters: theme, publisher, format, access, licence,
        tag (lists), year_from, year_to, registered, sort, facets (list), facet_limit."""
        return self._get(DatasetsPublic, "/api/v1/datasets", _search_params(q, limit, cursor, filters))

    def iter_search(self, q: str | None = None, *, limit: int = 100, **filters: Any) -> Iterator[DatasetPublic]:
        """Every dataset a search finds, across all its pages."""
        return self.pages(DatasetPublic, "/api/v1/datasets", _search_params(q, limit, None, filters))

    def dataset(self, dataset_id: str) -> DatasetPublic:
        """One dataset (by id or CKAN name), with its versions and files."""
        return self._get(DatasetPublic, f"/api/v1/datasets/{segment(dataset_id)}")

    def create_dataset(self, fields: Mapping[str, Any]) -> DatasetPublic:
        """A new draft dataset (title required; see the API's DatasetCreate)."""
        return self._post(DatasetPublic, "/api/v1/datasets", fields)

    def publish(self, dataset_id: str) -> DatasetPublic:
        """Publish the dataset's draft version."""
        return self._post(DatasetPublic, f"/api/v1/datasets/{segment(dataset_id)}/publish")

    def files(self, dataset_id: str) -> list[FilePublic]:
        """The files of every version of the dataset the caller may see, newest version first."""
        answer = self.request("GET", f"/api/v1/datasets/{segment(dataset_id)}/files").json()
        return [FilePublic.model_validate(item) for item in answer]

    def content_path(self, dataset_id: str, file_id: str) -> str:
        """The path a file's bytes are downloaded from."""
        return f"/api/v1/datasets/{segment(dataset_id)}/files/{segment(file_id)}/content"

    # ------------------------------------------------------------ exchange

    def request_access(
        self,
        *,
        purpose: str,
        scenario: str,
        use_category: str,
        requested_from: date,
        requested_until: date,
        dataset_id: str | None = None,
        product_id: str | None = None,
    ) -> AccessRequestPublic:
        """Apply for access to conditional data (one dataset or one product) for a purpose and a period."""
        from catalog.exchange.schemas import AccessRequestPublic

        body = {
            "purpose": purpose,
            "scenario": scenario,
            "use_category": use_category,
            "requested_from": requested_from.isoformat(),
            "requested_until": requested_until.isoformat(),
        }
        if dataset_id:
            body["dataset_id"] = dataset_id
        elif product_id:
            body["product_id"] = product_id
        return self._post(AccessRequestPublic, "/api/v1/access-requests", body)

    def access_requests(self, state: str | None = None) -> Iterator[AccessRequestPublic]:
        """One's access requests (or those to one's entity), newest first."""
        from catalog.exchange.schemas import AccessRequestPublic

        return self.pages(AccessRequestPublic, "/api/v1/access-requests", {"state": state} if state else None)

    def approve(self, request_id: str, **decision: Any) -> AccessRequestPublic:
        """Approve an access request (optionally `until` a date and with a `download_quota`)."""
        from catalog.exchange.schemas import AccessRequestPublic

        body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in decision.items() if v is not None}
        return self._post(AccessRequestPublic, f"/api/v1/access-requests/{segment(request_id)}/approve", body)

    def reject(self, request_id: str, reason: str) -> AccessRequestPublic:
        """Refuse an access request, with the reason."""
        from catalog.exchange.schemas import AccessRequestPublic

        path = f"/api/v1/access-requests/{segment(request_id)}/reject"
        return self._post(AccessRequestPublic, path, {"reason": reason})

    def grants(self, state: str | None = None) -> Iterator[GrantPublic]:
        """One's grants (pending, active, expired, used_up, revoked), newest first."""
        from catalog.exchange.schemas import GrantPublic

        return self.pages(GrantPublic, "/api/v1/grants", {"state": state} if state else None)

    def downloads(self) -> Iterator[DownloadPublic]:
        """One's downloads (or those of one's datasets), newest first."""
        from catalog.exchange.schemas import DownloadPublic

        return self.pages(DownloadPublic, "/api/v1/downloads")

    # ------------------------------------------------------------ registry

    def registration(self, registration_id: str) -> RegistrationPublic:
        """A registration with its state, deadlines and history."""
        from registry.schemas import RegistrationPublic

        return self._get(RegistrationPublic, f"/api/v1/registrations/{segment(registration_id)}")

    def certificate(self, number: str) -> CertificateBundle:
        """A certificate's bundle: the credential, its log proof and its status."""
        from registry.schemas import CertificateBundle

        return self._get(CertificateBundle, f"/api/v1/certificates/{segment(number)}")

    def trust(self) -> dict[str, Any]:
        """What an offline verifier needs: the log's origin and key, the issuer, the status list's URL."""
        return dict(self.request("GET", "/.well-known/pdr-trust.json").json())


def _search_params(q: str | None, limit: int, cursor: str | None, filters: Mapping[str, Any]) -> dict[str, Any]:
    """The search's query parameters: lists repeated, None left out."""
    params: dict[str, Any] = {"limit": limit}
    if q:
        params["q"] = q
    if cursor:
        params["cursor"] = cursor
    for name, value in filters.items():
        if value is None:
            continue
        if name in _LIST_FILTERS and isinstance(value, Sequence) and not isinstance(value, str):
            params[name] = list(value)
        else:
            params[name] = str(value).lower() if isinstance(value, bool) else value
    return params
