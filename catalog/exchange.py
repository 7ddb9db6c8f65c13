"""Use cases of the exchange: access requests and grants, download records, listings, annual disclosures.

"No scenario, no registration; no registration, no trading": conditional data reaches a consumer only through
an approved request naming one scenario, every download is on record, and only registered products are listed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.models import Account, Role
from catalog import datasets
from catalog.datasets import DatasetState
from catalog.exchange_models import AccessGrant, AccessRequest, DownloadRecord, Listing
from catalog.exchange_schemas import (
    AccessRequestCreate,
    Decision,
    DisclosedFee,
    DisclosedGrant,
    DisclosedProduct,
    DisclosurePublic,
    GrantState,
    ListingCreate,
    ListingState,
    RequestState,
    UseCategory,
)
from catalog.models import Dataset, DatasetFile
from registry import events
from registry.access import is_member, may_read_private
from registry.deadlines import china_date, china_midnight_utc
from registry.enums import EntityKind, Openness, SubjectStatus
from registry.models import DataProduct, Entity
from storage.db import now_of, upgrade_to_write
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

# ---------------------------------------------------------------- access requests


def _requester_allowed(caller: Caller) -> None:
    if caller.is_staff:
        raise Forbidden("the registry's staff do not apply for access; they review requests")
    if not caller.has_role(Role.consumer, Role.provider):
        raise Forbidden("only consumers and providers apply for access")


def _visible_product(session: Session, caller: Caller, product_id: str) -> DataProduct:
    product = session.get(DataProduct, product_id)
    if product is None or (product.status == SubjectStatus.draft and not may_read_private(caller, product.entity_id)):
        raise NotFound("no such product")
    return product


def create_request(session: Session, caller: Caller, data: AccessRequestCreate) -> AccessRequest:
    """File an access request for a conditional dataset or a registered product."""
    _requester_allowed(caller)
    today = china_date(now_of(session))
    if data.requested_until < data.requested_from:
        raise InvalidInput(
            "the period ends before it starts", errors=[FieldProblem("requested_until", "before requested_from")]
        )
    if data.requested_until < today:
        raise InvalidInput("the period is over already", errors=[FieldProblem("requested_until", "in the past")])
    if data.dataset_id is not None:
        # Anything the caller may not see is 404, so a not_open dataset's existence never leaks.
        dataset = datasets.visible_dataset(session, caller, data.dataset_id)
        if is_member(caller, dataset.entity_id):
            raise Conflict("your own entity's data needs no access request")
        if dataset.state != DatasetState.published:
            raise NotFound("no such dataset")
        if datasets.effective_access(session, dataset) != Openness.conditional:
            raise Conflict("only conditional datasets need an access request; open data is downloaded directly")
        provider_entity_id, dataset_id, product_id = dataset.entity_id, dataset.id, None
    else:
        assert data.product_id is not None
        product = _visible_product(session, caller, data.product_id)
        if is_member(caller, product.entity_id):
            raise Conflict("your own entity's product needs no access request")
        if product.status != SubjectStatus.registered:
            raise Conflict("the product is not registered: no registration, no trading")
        provider_entity_id, dataset_id, product_id = product.entity_id, None, product.id
    request = AccessRequest(
        account_id=caller.account_id or "",
        entity_id=caller.entity_id,
        dataset_id=dataset_id,
        product_id=product_id,
        provider_entity_id=provider_entity_id,
        purpose=data.purpose,
        scenario=data.scenario,
        use_category=data.use_category.value,
        requested_from=data.requested_from,
        requested_until=data.requested_until,
        created_at=now_of(session),
        updated_at=now_of(session),
    )
    session.add(request)
    audit.record(session, caller, "access_request.create", request.id)
    session.commit()
    return request


def visible_request(session: Session, caller: Caller, request_id: str) -> AccessRequest:
    """A request its requester, its providing entity or the staff may see; anyone else gets 404."""
    request = session.get(AccessRequest, request_id)
    if request is None or not (
        caller.is_staff
        or (caller.account_id is not None and request.account_id == caller.account_id)
        or is_member(caller, request.provider_entity_id)
    ):
        raise NotFound("no such access request")
    return request


def _grant_for(session: Session, request: AccessRequest) -> AccessGrant:
    """Turn an approved request into a grant, logged as a public exchange fact (ids and period only)."""
    until = request.approved_until or request.requested_until
    grant = AccessGrant(
        request_id=request.id,
        account_id=request.account_id,
        entity_id=request.entity_id,
        provider_entity_id=request.provider_entity_id,
        dataset_id=request.dataset_id,
        product_id=request.product_id,
        use_category=request.use_category,
        valid_from=china_midnight_utc(request.requested_from),
        # The grant runs to the end of its last China calendar day.
        valid_until=china_midnight_utc(until + timedelta(days=1)),
        download_quota=request.approved_quota,
        created_at=now_of(session),
    )
    session.add(grant)
    body: dict[str, Any] = {
        "grant_id": grant.id,
        "request_id": request.id,
        "provider_entity_id": request.provider_entity_id,
        "use_category": request.use_category,
        "valid_from": request.requested_from.isoformat(),
        "valid_until": until.isoformat(),
    }
    if request.dataset_id:
        body["dataset_id"] = request.dataset_id
    if request.product_id:
        body["product_id"] = request.product_id
    if request.entity_id:
        body["holder_entity_id"] = request.entity_id  # an organisation, not a person
    grant.log_index = events.emit(session, "access.grant", grant.id, body)
    request.grant_id = grant.id
    request.state = RequestState.approved
    return grant


def approve_request(
    session: Session, caller: Caller, request_id: str, decision: Decision, *, operator_second: bool
) -> AccessRequest:
    """The providing entity approves (and, where required, an operator seconds): the grant then exists."""
    request = visible_request(session, caller, request_id)
    now = now_of(session)
    if request.state == RequestState.pending:
        if not is_member(caller, request.provider_entity_id):
            raise Forbidden("only the providing entity approves a request")
        until = decision.until or request.requested_until
        if until > request.requested_until or until < request.requested_from:
            raise InvalidInput(
                "a grant runs within the requested period",
                errors=[FieldProblem("until", f"between {request.requested_from} and {request.requested_until}")],
            )
        request.approved_until = until
        request.approved_quota = decision.download_quota
        request.decision_reason = decision.reason
        request.decided_by = caller.account_id
        request.decided_at = now
        if operator_second:
            request.state = RequestState.provider_approved
        else:
            _grant_for(session, request)
    elif request.state == RequestState.provider_approved:
        if not caller.is_staff:
            if is_member(caller, request.provider_entity_id):
                raise Conflict("approved already: the request waits for an operator's second")
            raise Forbidden("only an operator seconds an approval")
        request.seconded_by = caller.account_id
        request.seconded_at = now
        _grant_for(session, request)
    else:
        raise Conflict(f"the request is {request.state} already")
    request.updated_at = now
    audit.record(session, caller, "access_request.approve", request.id)
    session.commit()
    return request


def reject_request(session: Session, caller: Caller, request_id: str, reason: str) -> AccessRequest:
    """The providing entity (or, for an approval awaiting its second, an operator) refuses, with a reason."""
    request = visible_request(session, caller, request_id)
    if request.state == RequestState.pending:
        if not is_member(caller, request.provider_entity_id):
            raise Forbidden("only the providing entity decides on a request")
    elif request.state == RequestState.provider_approved:
        if not (caller.is_staff or is_member(caller, request.provider_entity_id)):
            raise Forbidden("only the providing entity or an operator refuses this request")
    else:
        raise Conflict(f"the request is {request.state} already")
    now = now_of(session)
    request.state = RequestState.rejected
    request.decision_reason = reason
    request.decided_by = caller.account_id
    request.decided_at = now
    request.updated_at = now
    audit.record(session, caller, "access_request.reject", request.id)
    session.commit()
    return request


def _scope(caller: Caller, account_column: Any, entity_column: Any) -> Any:
    """Rows a caller may list: staff all, providers their entity's and their own, others their own."""
    if caller.is_staff:
        return None
    own = account_column == caller.account_id
    if caller.has_role(Role.provider) and caller.entity_id:
        return or_(own, entity_column == caller.entity_id)
    return own


def list_requests(
    session: Session, caller: Caller, *, state: str | None, limit: int, cursor: str | None
) -> PageOf[AccessRequest]:
    """The requests the caller may see, newest first."""
    statement = select(AccessRequest)
    scope = _scope(caller, AccessRequest.account_id, AccessRequest.provider_entity_id)
    if scope is not None:
        statement = statement.where(scope)
    if state:
        statement = statement.where(AccessRequest.state == state)
    return paginate_by_id(session, statement, AccessRequest.id, limit=limit, cursor=cursor)


# ---------------------------------------------------------------- grants


def visible_grant(session: Session, caller: Caller, grant_id: str) -> AccessGrant:
    """A grant its holder, its providing entity or the staff may see; anyone else gets 404."""
    grant = session.get(AccessGrant, grant_id)
    if grant is None or not (
        caller.is_staff
        or (caller.account_id is not None and grant.account_id == caller.account_id)
        or is_member(caller, grant.provider_entity_id)
    ):
        raise NotFound("no such grant")
    return grant


def revoke_grant(session: Session, caller: Caller, grant_id: str, reason: str) -> AccessGrant:
    """The providing entity or an operator revokes a grant; downloads stop at once."""
    grant = visible_grant(session, caller, grant_id)
    if not (caller.is_staff or is_member(caller, grant.provider_entity_id)):
        raise Forbidden("only the providing entity or an operator revokes a grant")
    if grant.state == GrantState.revoked:
        raise Conflict("the grant is revoked already")
    now = now_of(session)
    grant.state = GrantState.revoked
    grant.revoked_at = now
    grant.revoked_by = caller.account_id
    grant.revoked_reason = reason
    # The reason may name people; the public log keeps only the fact.
    events.emit(session, "access.revoke", grant.id, {"grant_id": grant.id, "request_id": grant.request_id})
    audit.record(session, caller, "grant.revoke", grant.id)
    session.commit()
    return grant


def list_grants(
    session: Session, caller: Caller, *, state: str | None, limit: int, cursor: str | None
) -> PageOf[AccessGrant]:
    """The grants the caller may see, newest first."""
    statement = select(AccessGrant)
    scope = _scope(caller, AccessGrant.account_id, AccessGrant.provider_entity_id)
    if scope is not None:
        statement = statement.where(scope)
    if state:
        statement = statement.where(AccessGrant.state == state)
    return paginate_by_id(session, statement, AccessGrant.id, limit=limit, cursor=cursor)


def _live(now: datetime) -> Any:
    return and_(
        col(AccessGrant.state) == GrantState.active,
        col(AccessGrant.valid_from) <= now,
        col(AccessGrant.valid_until) > now,
        or_(col(AccessGrant.download_quota).is_(None), col(AccessGrant.downloads_used) < AccessGrant.download_quota),
    )


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class DownloadTicket:
    """What a download's record needs, fixed when the download is authorised."""

    account_id: str | None
    grant_id: str | None
    dataset_id: str
    file_id: str
    provider_entity_id: str
    client_addr: str | None
    at: datetime


def claim_download(
    session: Session, caller: Caller, dataset: Dataset, file: DatasetFile, *, conditional: bool, count: bool
) -> DownloadTicket:
    """Authorise one download: a conditional file needs a live grant, whose quota this download uses."""
    now = now_of(session)
    grant_id: str | None = None
    if conditional:
        if caller.is_anonymous:
            raise Forbidden("this dataset's files are conditional: sign in and apply for access")
        refused = Forbidden("no live grant for this dataset: it expired, was revoked, is used up, or never was")
        live = and_(
            col(AccessGrant.account_id) == caller.account_id, col(AccessGrant.dataset_id) == dataset.id, _live(now)
        )
        grant_id = session.exec(
            select(AccessGrant.id).where(live).order_by(col(AccessGrant.valid_until).desc()).limit(1)
        ).first()
        if grant_id is None:
            raise refused
        if count:
            upgrade_to_write(session)
            # One conditional UPDATE: two downloads racing for the last unit of a quota cannot both win.
            result = session.execute(
                update(AccessGrant)
                .where(col(AccessGrant.id) == grant_id, live)
                .values(downloads_used=AccessGrant.downloads_used + 1)
            )
            assert isinstance(result, CursorResult)
            if result.rowcount != 1:
                session.rollback()
                raise refused
            audit.record(session, caller, "grant.download", grant_id)
    return DownloadTicket(
        account_id=caller.account_id,
        grant_id=grant_id,
        dataset_id=dataset.id,
        file_id=file.id,
        provider_entity_id=dataset.entity_id,
        client_addr=caller.client_addr,
        at=now,
    )


def record_download(
    session: Session,
    ticket: DownloadTicket,
    *,
    mode: str,
    byte_range: tuple[int, int] | None,
    bytes_sent: int,
    complete: bool,
) -> DownloadRecord:
    """Add a download record to the session's transaction (the caller commits)."""
    upgrade_to_write(session)
    record = DownloadRecord(
        account_id=ticket.account_id,
        grant_id=ticket.grant_id,
        dataset_id=ticket.dataset_id,
        file_id=ticket.file_id,
        provider_entity_id=ticket.provider_entity_id,
        mode=mode,
        range_start=byte_range[0] if byte_range else None,
        range_end=byte_range[1] if byte_range else None,
        bytes_sent=bytes_sent,
        complete=complete,
        client_addr=(ticket.client_addr or "")[:64] or None,
        at=ticket.at,
    )
    session.add(record)
    return record


def _downloads_statement(caller: Caller, dataset_id: str | None) -> Any:
    statement = select(DownloadRecord)
    scope = _scope(caller, DownloadRecord.account_id, DownloadRecord.provider_entity_id)
    if scope is not None:
        statement = statement.where(scope)
    if dataset_id:
        statement = statement.where(DownloadRecord.dataset_id == dataset_id)
    return statement


def list_downloads(
    session: Session, caller: Caller, *, dataset_id: str | None, limit: int, cursor: str | None
) -> PageOf[DownloadRecord]:
    """Download records: one's own, those of one's entity's datasets, or all for the staff."""
    return paginate_by_id(
        session, _downloads_statement(caller, dataset_id), DownloadRecord.id, limit=limit, cursor=cursor
    )


DOWNLOAD_CSV_FIELDS = (
    "id",
    "at",
    "account_id",
    "grant_id",
    "dataset_id",
    "file_id",
    "mode",
    "range_start",
    "range_end",
    "bytes_sent",
    "complete",
    "client_addr",
)


def downloads_csv(session: Session, caller: Caller, *, dataset_id: str | None) -> Iterable[str]:
    """The caller's visible download records as CSV lines, oldest first, read in batches."""
    statement = _downloads_statement(caller, dataset_id).order_by(col(DownloadRecord.id))
    yield _csv_line(DOWNLOAD_CSV_FIELDS)
    for record in session.exec(statement.execution_options(yield_per=500)):
        yield _csv_line(_csv_value(getattr(record, field)) for field in DOWNLOAD_CSV_FIELDS)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A leading = + - @ makes spreadsheets run the cell as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(values))
    return buffer.getvalue()


# ---------------------------------------------------------------- listings


def _may_manage_listing(caller: Caller, entity_id: str) -> bool:
    return caller.is_staff or is_member(caller, entity_id)


def create_listing(session: Session, caller: Caller, data: ListingCreate, *, fee_cap: Decimal) -> Listing:
    """List a registered product; free for public-welfare use, capped for industry use."""
    if not (caller.is_staff or caller.has_role(Role.provider)):
        raise Forbidden("only providers and the registry's staff list products")
    product = _visible_product(session, caller, data.product_id)
    if not _may_manage_listing(caller, product.entity_id):
        raise Forbidden("only the product's entity lists it")
    if product.status != SubjectStatus.registered:
        raise Conflict("the product is not registered: no registration, no trading")
    if data.use_category == UseCategory.public_welfare and data.price != 0:
        raise InvalidInput(
            "products for public welfare are free", errors=[FieldProblem("price", "must be 0 for public_welfare")]
        )
    if data.use_category == UseCategory.industry and data.price > fee_cap:
        raise InvalidInput(
            f"the price is over the fee cap of {fee_cap} CNY for public-data products",
            errors=[FieldProblem("price", f"at most {fee_cap}")],
        )
    now = now_of(session)
    listing = Listing(
        product_id=product.id,
        entity_id=product.entity_id,
        title=product.name,
        delivery_mode=data.delivery_mode.value,
        pricing_unit=data.pricing_unit,
        price=data.price,
        currency=data.currency,
        use_category=data.use_category.value,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    session.add(listing)
    audit.record(session, caller, "listing.create", listing.id)
    session.commit()
    return listing


def visible_listing(session: Session, caller: Caller, listing_id: str) -> Listing:
    """A listing: listed ones are public, the others only to their entity and the staff."""
    listing = session.get(Listing, listing_id)
    if listing is None or (listing.state != ListingState.listed and not _may_manage_listing(caller, listing.entity_id)):
        raise NotFound("no such listing")
    return listing


_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({ListingState.listed}), ListingState.suspended),
    "relist": (frozenset({ListingState.suspended}), ListingState.listed),
    "delist": (frozenset({ListingState.listed, ListingState.suspended}), ListingState.delisted),
}

LISTING_ACTIONS = tuple(_TRANSITIONS)


def change_listing(session: Session, caller: Caller, listing_id: str, action: str, reason: str | None) -> Listing:
    """Suspend, relist or delist: the product's entity or the staff."""
    listing = visible_listing(session, caller, listing_id)
    if not _may_manage_listing(caller, listing.entity_id):
        raise Forbidden("only the product's entity and the registry's staff change a listing")
    if action not in _TRANSITIONS:
        raise NotFound("no such action")
    sources, target = _TRANSITIONS[action]
    if listing.state not in sources:
        raise Conflict(f"a {listing.state} listing cannot be {action}ed")
    if target == ListingState.listed:
        product = session.get(DataProduct, listing.product_id)
        if product is None or product.status != SubjectStatus.registered:
            raise Conflict("the product is no longer registered: no registration, no trading")
    listing.state = target
    listing.state_reason = reason
    listing.updated_at = now_of(session)
    audit.record(session, caller, f"listing.{action}", listing.id)
    session.commit()
    return listing


def search_listings(
    session: Session,
    caller: Caller,
    *,
    q: str | None,
    state: str | None,
    delivery_mode: str | None,
    limit: int,
    cursor: str | None,
) -> PageOf[Listing]:
    """Listings by text, state and delivery mode; others' non-listed ones stay hidden."""
    statement = select(Listing)
    if caller.is_staff:
        pass
    elif caller.has_role(Role.provider) and caller.entity_id:
        statement = statement.where(
            or_(col(Listing.state) == ListingState.listed, col(Listing.entity_id) == caller.entity_id)
        )
    else:
        statement = statement.where(Listing.state == ListingState.listed)
    if state:
        statement = statement.where(Listing.state == state)
    if delivery_mode:
        statement = statement.where(Listing.delivery_mode == delivery_mode)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(col(Listing.title).ilike(pattern, escape="\\"))
    return paginate_by_id(session, statement, Listing.id, limit=limit, cursor=cursor)


# ---------------------------------------------------------------- annual disclosure


def disclosure(session: Session, entity_id: str, year: int) -> DisclosurePublic:
    """An operator entity's disclosure for a year; due until the end of March of the next year (China date)."""
    entity = session.get(Entity, entity_id)
    if entity is None or entity.kind != EntityKind.operator:
        raise NotFound("no such operator entity")
    if not 2000 <= year <= 9999:
        raise NotFound("no disclosure for that year")
    start, end = china_midnight_utc(date(year, 1, 1)), china_midnight_utc(date(year + 1, 1, 1))
    account_ids = select(Account.id).where(Account.entity_id == entity.id)
    grants = session.exec(
        select(AccessGrant)
        .where(
            or_(col(AccessGrant.entity_id) == entity.id, col(AccessGrant.account_id).in_(account_ids)),
            col(AccessGrant.valid_from) < end,
            col(AccessGrant.valid_until) > start,
        )
        .order_by(col(AccessGrant.id))
    ).all()
    titles = _titles(session, grants)
    products = session.exec(
        select(DataProduct).where(DataProduct.entity_id == entity.id).order_by(col(DataProduct.code))
    ).all()
    listings: dict[str, list[Listing]] = {}
    if products:
        for listing in session.exec(
            select(Listing).where(col(Listing.product_id).in_([p.id for p in products])).order_by(col(Listing.id))
        ):
            listings.setdefault(listing.product_id, []).append(listing)
    due_by = date(year + 1, 3, 31)
    return DisclosurePublic(
        entity_id=entity.id,
        entity_name=entity.name,
        year=year,
        due=china_date(now_of(session)) <= due_by,
        due_by=due_by,
        authorised_resources=[
            DisclosedGrant(
                grant_id=g.id,
                dataset_id=g.dataset_id,
                product_id=g.product_id,
                title=titles.get(g.dataset_id or g.product_id or "", ""),
                provider_entity_id=g.provider_entity_id,
                use_category=g.use_category,
                valid_from=g.valid_from,
                valid_until=g.valid_until,
                state=g.state,
            )
            for g in grants
        ],
        products=[
            DisclosedProduct(
                product_id=p.id,
                code=p.code,
                name=p.name,
                form=p.form,
                status=p.status,
                fees=[
                    DisclosedFee(
                        listing_id=x.id,
                        delivery_mode=x.delivery_mode,
                        pricing_unit=x.pricing_unit,
                        price=x.price,
                        currency=x.currency,
                        use_category=x.use_category,
                        state=x.state,
                    )
                    for x in listings.get(p.id, [])
                ],
            )
            for p in products
        ],
    )


def _titles(session: Session, grants: Sequence[AccessGrant]) -> dict[str, str]:
    dataset_ids = {g.dataset_id for g in grants if g.dataset_id}
    product_ids = {g.product_id for g in grants if g.product_id}
    titles: dict[str, str] = {}
    if dataset_ids:
        for row_id, title in session.exec(select(Dataset.id, Dataset.title).where(col(Dataset.id).in_(dataset_ids))):
            titles[row_id] = title
    if product_ids:
        rows = session.exec(select(DataProduct.id, DataProduct.name).where(col(DataProduct.id).in_(product_ids)))
        for row_id, name in rows:
            titles[row_id] = name
    return titles


def disclosure_csv(report: DisclosurePublic) -> str:
    """The disclosure as one CSV table: a row per authorised resource, per product, and per fee."""
    header = ("section", "id", "name", "detail", "use_category", "price", "currency", "valid_from", "valid_until")
    lines = [_csv_line(header)]
    for g in report.authorised_resources:
        lines.append(
            _csv_line(
                _csv_value(v)
                for v in (
                    "authorised_resource",
                    g.grant_id,
                    g.title,
                    g.dataset_id or g.product_id,
                    g.use_category,
                    None,
                    None,
                    g.valid_from,
                    g.valid_until,
                )
            )
        )
    for p in report.products:
        lines.append(
            _csv_line(_csv_value(v) for v in ("product", p.product_id, p.name, p.form, None, None, None, None, None))
        )
        for fee in p.fees:
            lines.append(
                _csv_line(
                    _csv_value(v)
                    for v in (
                        "fee",
                        fee.listing_id,
                        p.name,
                        f"{fee.delivery_mode}/{fee.pricing_unit}/{fee.state}",
                        fee.use_category,
                        fee.price,
                        fee.currency,
                        None,
                        None,
                    )
                )
            )
    return "".join(lines)
