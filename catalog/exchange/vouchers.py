"""Trade vouchers: every finalized data space agreement with a fee leaves one, naming its parties, its object, its
price and where the agreement is in the transparency log; both parties list theirs, the staff all.

Voucher number (交易凭证编号)::

    PDRV-2026-0000000123-Y
    |    |    |          check character
    |    |    the agreement's index in the transparency log, at least 10 digits
    |    the China calendar year the voucher was issued in
    fixed prefix

As with the registry's codes (registry.codes), the check character is ISO 7064 MOD 37,36 over the letters and
digits, prefix included; hyphens are layout, so a number is also found without them, and in lower case.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from auth.caller import Caller
from catalog.exchange.models import Voucher
from catalog.exchange.visibility import listable, may_see
from registry.codes import mod_37_36_check, mod_37_36_valid
from registry.deadlines import china_date
from storage.exceptions import FieldProblem, InvalidInput, NotFound
from storage.pagination import PageOf, paginate_by_id

PREFIX = "PDRV"
CURRENCY = "CNY"
_NUMBER = re.compile(rf"{PREFIX}([0-9]{{4}})([0-9]{{10,19}})([0-9A-Z])")


def voucher_number(year: int, log_index: int) -> str:
    """The number of the voucher of the agreement at `log_index`, issued in `year` (China calendar)."""
    body = f"{PREFIX}{year:04d}{log_index:010d}"
    check = mod_37_36_check(body)
    return f"{PREFIX}-{year:04d}-{log_index:010d}-{check}"


def checked_number(text: str) -> str:
    """A voucher number as typed, in its written form; InvalidInput if it is malformed or its check character wrong."""
    compact = text.strip().upper().replace("-", "")
    match = _NUMBER.fullmatch(compact)
    if match is None:
        raise InvalidInput(
            f"not a voucher number of the form {PREFIX}-YYYY-NNNNNNNNNN-C: {text!r}",
            errors=[
                FieldProblem("number", "must be PDRV, a year, a log index of 10 or more digits, a check character")
            ],
        )
    if not mod_37_36_valid(compact):
        raise InvalidInput(
            f"voucher number {text!r} has a wrong check character (mistyped?)",
            errors=[FieldProblem("number", "the check character does not match the rest of the number")],
        )
    return f"{PREFIX}-{match[1]}-{match[2]}-{match[3]}"


def issue_voucher(
    session: Session,
    *,
    agreement_id: str,
    agreement_log_index: int,
    assigner_entity_id: str,
    account_id: str,
    entity_id: str | None,
    dataset_id: str,
    price: Decimal,
    at: datetime,
) -> Voucher:
    """Add the voucher of a finalized agreement with a fee to the caller's transaction (which commits it)."""
    voucher = Voucher(
        number=voucher_number(china_date(at).year, agreement_log_index),
        agreement_id=agreement_id,
        assigner_entity_id=assigner_entity_id,
        account_id=account_id,
        entity_id=entity_id,
        dataset_id=dataset_id,
        price=price,
        currency=CURRENCY,
        agreement_log_index=agreement_log_index,
        issued_at=at,
    )
    session.add(voucher)
    return voucher


def list_vouchers(session: Session, caller: Caller, *, limit: int, cursor: str | None) -> PageOf[Voucher]:
    """The vouchers the caller may see (its own as consumer, its entity's as provider, all for the staff), newest
    first."""
    statement = listable(caller, Voucher, Voucher.account_id, Voucher.assigner_entity_id)
    return paginate_by_id(session, statement, Voucher.id, limit=limit, cursor=cursor)


def visible_voucher(session: Session, caller: Caller, number: str) -> Voucher:
    """A voucher by its number, for its consumer, its provider entity's members and the staff; others get 404."""
    written = checked_number(number)
    voucher = session.exec(select(Voucher).where(Voucher.number == written)).first()
    if voucher is None or not may_see(caller, voucher.account_id, voucher.assigner_entity_id):
        raise NotFound("no such voucher")
    return voucher
