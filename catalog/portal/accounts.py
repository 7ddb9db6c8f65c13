"""The signed-in pages' data: one's API tokens, ending one's session, and a consumer's requests, grants and
downloads, each read through the same use cases as the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from auth import service
from auth.caller import Caller
from auth.config import AuthSettings
from auth.models import ApiToken
from auth.tokens import hash_token
from catalog.datasets.models import Dataset
from catalog.exchange import download_records, grants, requests
from catalog.exchange.models import AccessRequest, DownloadRecord
from catalog.exchange.schemas import GrantPublic
from storage.db import now_of

TOKENS_SHOWN = 100
CONSOLE_ROWS = 50


@dataclass(frozen=True)
class TokenRow:
    """A token as the account page lists it: never its secret, and whether it still works."""

    token: ApiToken
    state: str


def _token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def account_tokens(session: Session, caller: Caller) -> list[TokenRow]:
    """The caller's tokens, newest first, each with its state now."""
    page = service.list_tokens(session, caller, limit=TOKENS_SHOWN, cursor=None)
    now = now_of(session)
    return [TokenRow(token, _token_state(token, now)) for token in page.items]


def end_session(session: Session, caller: Caller, settings: AuthSettings, secret: str) -> None:
    """Revoke the session token behind the cookie, so that a copy of it stops working too."""
    digest = hash_token(secret, settings.secret_key.get_secret_value())
    token_id = session.exec(
        select(ApiToken.id).where(ApiToken.token_hash == digest, ApiToken.account_id == caller.account_id)
    ).first()
    if token_id is not None:
        service.revoke_token(session, caller, token_id)


@dataclass(frozen=True)
class ConsoleCursors:
    """Where each of the consumer console's lists starts: None for its first page."""

    requests: str | None = None
    grants: str | None = None
    downloads: str | None = None


@dataclass(frozen=True)
class ConsumerConsole:
    """A consumer's access requests, grants and downloads, with their totals, the cursors of the lists' next pages,
    and the titles of their datasets."""

    requests: list[AccessRequest]
    request_count: int
    grants: list[GrantPublic]
    grant_count: int
    downloads: list[DownloadRecord]
    download_count: int
    titles: dict[str, str]
    next: ConsoleCursors = ConsoleCursors()


def _titles(session: Session, dataset_ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {dataset_id for dataset_id in dataset_ids if dataset_id}
    if not wanted:
        return {}
    rows = session.exec(select(Dataset.id, Dataset.title).where(col(Dataset.id).in_(wanted))).all()
    return dict(rows)


def consumer_console(session: Session, caller: Caller, at: ConsoleCursors = ConsoleCursors()) -> ConsumerConsole:
    """What the consumer console shows the caller: a page of each list (the newest first), and how many there are."""
    asked = requests.list_requests(session, caller, state=None, limit=CONSOLE_ROWS, cursor=at.requests)
    given = grants.list_grants(session, caller, state=None, limit=CONSOLE_ROWS, cursor=at.grants)
    fetched = download_records.list_downloads(session, caller, dataset_id=None, limit=CONSOLE_ROWS, cursor=at.downloads)
    ids = [r.dataset_id for r in asked.items] + [g.dataset_id for g in given.items]
    return ConsumerConsole(
        requests=list(asked.items),
        request_count=asked.count,
        grants=list(given.items),
        grant_count=given.count,
        downloads=list(fetched.items),
        download_count=fetched.count,
        titles=_titles(session, [*ids, *(d.dataset_id for d in fetched.items)]),
        next=ConsoleCursors(asked.next_cursor, given.next_cursor, fetched.next_cursor),
    )
