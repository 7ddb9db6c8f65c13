"""The annual disclosure of an operator entity: the resources it may use, its products and services, their fees, and
the trade vouchers of the year it is a party to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from auth.models import Account
from catalog.datasets.models import Dataset
from catalog.exchange.csv_rows import csv_line, csv_value
from catalog.exchange.models import AccessGrant, Listing, Voucher
from catalog.exchange.schemas import (
    DisclosedFee,
    DisclosedGrant,
    DisclosedProduct,
    DisclosedVoucher,
    DisclosurePublic,
)
from registry.deadlines import china_date, china_midnight_utc
from registry.enums import EntityKind
from registry.models import DataProduct, Entity
from storage.db import now_of
from storage.exceptions import NotFound

CSV_HEADER = (
    "section",
    "id",
    "name",
    "detail",
    "use_category",
    "price",
    "currency",
    "valid_from",
    "valid_until",
    "role",
    "counterparty",
    "agreement_log_index",
    "issued_at",
)


def disclosure(session: Session, entity_id: str, year: int) -> DisclosurePublic:
    """An operator entity's disclosure for a year; due until the end of March of the next year (China date)."""
    entity = session.get(Entity, entity_id)
    if entity is None or entity.kind != EntityKind.operator:
        raise NotFound("no such operator entity")
    if not 2000 <= year <= 9999:
        raise NotFound("no disclosure for that year")
    due_by = date(year + 1, 3, 31)
    return DisclosurePublic(
        entity_id=entity.id,
        entity_name=entity.name,
        year=year,
        due=china_date(now_of(session)) <= due_by,
        due_by=due_by,
        authorised_resources=_authorised_resources(session, entity.id, year),
        products=_products(session, entity.id),
        vouchers=_vouchers(session, entity.id, year),
    )


def _authorised_resources(session: Session, entity_id: str, year: int) -> list[DisclosedGrant]:
    """The grants the entity (or one of its accounts) held at some time in the year (China calendar)."""
    start, end = china_midnight_utc(date(year, 1, 1)), china_midnight_utc(date(year + 1, 1, 1))
    account_ids = select(Account.id).where(Account.entity_id == entity_id)
    grants = session.exec(
        select(AccessGrant)
        .where(
            or_(col(AccessGrant.entity_id) == entity_id, col(AccessGrant.account_id).in_(account_ids)),
            col(AccessGrant.valid_from) < end,
            col(AccessGrant.valid_until) > start,
        )
        .order_by(col(AccessGrant.id))
    ).all()
    titles = _titles(session, grants)
    return [
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
    ]


def _products(session: Session, entity_id: str) -> list[DisclosedProduct]:
    """The entity's products and services, each with the fees of its listings."""
    products = session.exec(
        select(DataProduct).where(DataProduct.entity_id == entity_id).order_by(col(DataProduct.code))
    ).all()
    listings: dict[str, list[Listing]] = {}
    if products:
        for listing in session.exec(
            select(Listing).where(col(Listing.product_id).in_([p.id for p in products])).order_by(col(Listing.id))
        ):
            listings.setdefault(listing.product_id, []).append(listing)
    return [
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
    ]


def _vouchers(session: Session, entity_id: str, year: int) -> list[DisclosedVoucher]:
    """The trade vouchers of the year (China calendar) to which the entity, or one of its accounts, is a party."""
    start, end = china_midnight_utc(date(year, 1, 1)), china_midnight_utc(date(year + 1, 1, 1))
    account_ids = select(Account.id).where(Account.entity_id == entity_id)
    vouchers = session.exec(
        select(Voucher)
        .where(
            or_(
                col(Voucher.assigner_entity_id) == entity_id,
                col(Voucher.entity_id) == entity_id,
                col(Voucher.account_id).in_(account_ids),
            ),
            col(Voucher.issued_at) >= start,
            col(Voucher.issued_at) < end,
        )
        .order_by(col(Voucher.issued_at), col(Voucher.id))
    ).all()
    shown: list[DisclosedVoucher] = []
    titles = _names(session, col(Dataset.id), col(Dataset.title), {v.dataset_id for v in vouchers})
    party_ids = {v.assigner_entity_id for v in vouchers} | {v.entity_id for v in vouchers if v.entity_id}
    parties = _names(session, col(Entity.id), col(Entity.name), party_ids)
    for v in vouchers:
        provider = v.assigner_entity_id == entity_id
        counterparty = v.entity_id if provider else v.assigner_entity_id
        shown.append(
            DisclosedVoucher(
                number=v.number,
                role="provider" if provider else "consumer",
                counterparty_entity_id=counterparty,
                counterparty_name=parties.get(counterparty or ""),
                dataset_id=v.dataset_id,
                title=titles.get(v.dataset_id, ""),
                price=v.price,
                currency=v.currency,
                agreement_log_index=v.agreement_log_index,
                issued_at=v.issued_at,
            )
        )
    return shown


def _names(session: Session, id_column: Any, label_column: Any, ids: set[str]) -> dict[str, str]:
    """One label (a dataset's title, an entity's name) of each row of a table, by id."""
    if not ids:
        return {}
    rows = session.execute(select(id_column, label_column).where(id_column.in_(ids)))
    return {row_id: label for row_id, label in rows}


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
    """The disclosure as one CSV table: a row per authorised resource, per product, per fee, and per voucher."""
    lines = [csv_line(CSV_HEADER)]
    for g in report.authorised_resources:
        lines.append(
            _line(
                csv_value(v)
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
            _line(csv_value(v) for v in ("product", p.product_id, p.name, p.form, None, None, None, None, None))
        )
        for fee in p.fees:
            lines.append(
                _line(
                    csv_value(v)
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
    lines.extend(_voucher_line(v) for v in report.vouchers)
    return "".join(lines)


def _voucher_line(v: DisclosedVoucher) -> str:
    """A voucher's row: its number, its object, the entity's side and the other party, the price, the log index."""
    return _line(
        csv_value(value)
        for value in (
            "voucher",
            v.number,
            v.title,
            v.dataset_id,
            None,
            v.price,
            v.currency,
            None,
            None,
            v.role,
            v.counterparty_name or v.counterparty_entity_id,
            v.agreement_log_index,
            v.issued_at,
        )
    )


def _line(cells: Iterable[str]) -> str:
    """One CSV line of the disclosure, with an empty cell for each column the row has no value for."""
    row = list(cells)
    return csv_line(row + [""] * (len(CSV_HEADER) - len(row)))
