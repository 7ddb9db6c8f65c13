"""What of the exchange a caller may see: the rows of its lists, and products by id."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import or_
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from auth.caller import Caller
from auth.roles import Role
from registry.access import is_member, may_read_private
from registry.enums import SubjectStatus
from registry.models import DataProduct
from storage.exceptions import NotFound

Row = TypeVar("Row", bound=SQLModel)


def listable(caller: Caller, table: type[Row], account_column: Any, entity_column: Any) -> SelectOfScalar[Row]:
    """The rows of a table a caller may list: the staff all, providers their entity's and their own, others their own.

    account_column names the account a row is about (requester, holder, downloader); entity_column the providing
    entity that decides on it.
    """
    statement = select(table)
    if caller.is_staff:
        return statement
    own = account_column == caller.account_id
    if caller.has_role(Role.provider) and caller.entity_id:
        return statement.where(or_(own, entity_column == caller.entity_id))
    return statement.where(own)


def may_see(caller: Caller, account_id: str, provider_entity_id: str) -> bool:
    """Whether a caller may see one request or grant: its account, a member of its providing entity, the staff."""
    return (
        caller.is_staff
        or (caller.account_id is not None and account_id == caller.account_id)
        or is_member(caller, provider_entity_id)
    )


def visible_product(session: Session, caller: Caller, product_id: str) -> DataProduct:
    """A product the caller may see: registered ones for everyone, drafts for their entity and the staff."""
    product = session.get(DataProduct, product_id)
    if product is None or (product.status == SubjectStatus.draft and not may_read_private(caller, product.entity_id)):
        raise NotFound("no such product")
    return product
