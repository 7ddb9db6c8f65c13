"""The data plane of pull transfers: an access token finds its transfer, whose files are listed and downloaded under
the agreement's own grant (counted, recorded with the transfer), each download watched while it streams so that it
stops within seconds of the transfer, its agreement or its grant ending."""

from __future__ import annotations

from sqlmodel import Session

from auth.caller import Caller
from auth.exceptions import InvalidCredentials
from auth.models import Account
from auth.roles import Role
from catalog.datasets.models import DatasetFile
from catalog.dataspace.models import Transfer
from catalog.dataspace.transfers import token_holder, why_stopped
from catalog.exchange.downloads import DownloadStart, Pin, start_download
from catalog.files.service import files_of
from storage.config import StorageSettings
from storage.db import SessionFactory, now_of
from storage.exceptions import Forbidden
from storage.objects import ObjectStore


def running_transfer(session: Session, transfer_id: str, token: str | None, secret_key: str) -> Transfer:
    """The transfer a presented access token opens, if it may send bytes now: 401 for a bad token (or one of another
    transfer), 403 if the transfer stopped."""
    transfer = token_holder(session, token, secret_key) if token else None
    if transfer is None or transfer.id != transfer_id:
        raise InvalidCredentials("a transfer's valid access token is required (refresh it if it expired)")
    problem = why_stopped(session, transfer, now_of(session))
    if problem is not None:
        raise Forbidden(f"the transfer sends nothing: {problem}")
    return transfer


def _consumer(session: Session, transfer: Transfer, client_addr: str | None) -> Caller:
    """The transfer's consumer as the caller its downloads are counted and recorded for."""
    account = session.get(Account, transfer.account_id)
    assert account is not None
    return Caller(
        account_id=account.id,
        name=account.name,
        role=Role(account.role),
        entity_id=account.entity_id,
        client_addr=client_addr,
    )


def transfer_files(session: Session, transfer: Transfer, client_addr: str | None) -> list[DatasetFile]:
    """The files of the transferred dataset's published versions, newest version first."""
    return files_of(session, _consumer(session, transfer, client_addr), transfer.dataset_id)


def start_transfer_download(
    session: Session,
    transfer: Transfer,
    store: ObjectStore,
    settings: StorageSettings,
    file_id: str,
    *,
    if_none_match: str | None,
    range_header: str | None,
    client_addr: str | None,
) -> DownloadStart:
    """Authorise one download of the transfer's dataset under its agreement's grant; always sent by the service."""
    caller = _consumer(session, transfer, client_addr)
    pin = Pin(grant_id=transfer.grant_id, transfer_id=transfer.id)
    return start_download(
        session,
        caller,
        store,
        settings,
        transfer.dataset_id,
        file_id,
        if_none_match=if_none_match,
        range_header=range_header,
        pin=pin,
    )


def stop_reason(open_session: SessionFactory, transfer_id: str) -> str | None:
    """Why a download of the transfer must stop now, read afresh from the database; None while it may go on."""
    with open_session(write=False) as session:
        transfer = session.get(Transfer, transfer_id)
        if transfer is None:
            return "the transfer is gone"
        return why_stopped(session, transfer, now_of(session))
