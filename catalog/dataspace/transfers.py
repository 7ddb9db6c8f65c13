"""Use cases of transfer processes: a consumer pulls a dataset's files under a finalized agreement.

pdr is the provider's data plane: a transfer it accepts is started at once for the provider (a pull transfer needs
no person), and hands the consumer a short-lived bearer token for the transfer's data endpoint. A refresh keeps the
previous token good until its own expiry, so an answer lost on the way costs nothing. Every step is recorded with
who took it; the policy monitor (catalog.dataspace.monitor) is the "system" side that ends transfers whose agreement
no longer holds.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.tokens import hash_token
from catalog.dataspace.agreement_credentials import VALID
from catalog.dataspace.agreements import AGREEMENT_PREFIX
from catalog.dataspace.documents import TRANSFER_FORMAT
from catalog.dataspace.models import Agreement, Negotiation, Transfer, TransferStep
from catalog.dataspace.negotiation import Side, State
from catalog.dataspace.transfer import RUNNING, TransferState, advance
from catalog.dataspace.transfer import TransferAction as Step
from catalog.dataspace.transfer_protocol import data_address, step_message
from catalog.exchange.grants import status_of
from catalog.exchange.models import AccessGrant
from catalog.exchange.schemas import GrantStatus
from catalog.exchange.visibility import listable, may_see
from registry.access import is_member
from storage.db import now_of
from storage.exceptions import Conflict, DomainError, FieldProblem, Forbidden, NotFound
from storage.pagination import PageOf, paginate_by_id

SYSTEM_SIDE = "system"
TOKEN_SCHEME = "pdrx_"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True)
class TransferRules:
    """What transfers follow: how long an access token lasts, the service's URL, the key tokens are hashed with."""

    token_seconds: int
    base_url: str
    secret_key: str


@dataclass(frozen=True)
class Handout:
    """A transfer, and the data address with a fresh access token when this call handed one out."""

    transfer: Transfer
    address: dict[str, Any] | None = None


def why_stopped(session: Session, transfer: Transfer, now: datetime) -> str | None:
    """Why the transfer may send no bytes now, or None while it may: it runs, its agreement holds, its grant lives."""
    if transfer.state != TransferState.STARTED:
        return f"the transfer is {transfer.state}"
    return agreement_problem(session, transfer, now)


def agreement_problem(session: Session, transfer: Transfer, now: datetime) -> str | None:
    """Why the transfer's agreement or grant does not hold now, or None while both do, whatever its state."""
    found = session.exec(
        select(Agreement.status, Agreement.valid_until, AccessGrant)
        .join(AccessGrant, col(AccessGrant.id) == transfer.grant_id)
        .where(col(Agreement.id) == transfer.agreement_id)
    ).first()
    if found is None:
        return "the transfer's agreement is gone"
    status, valid_until, grant = found
    return _agreement_problem(status, valid_until, grant, now)


def _agreement_problem(status: str, valid_until: datetime, grant: AccessGrant, now: datetime) -> str | None:
    if status != VALID:
        return f"the agreement was {status}"
    if now >= valid_until:
        return "the agreement expired"
    grant_status = status_of(grant, now)
    if grant_status in (GrantStatus.revoked, GrantStatus.expired):
        return f"the agreement's grant is {grant_status.value}"
    if grant_status == GrantStatus.pending:
        return "the agreement's period has not started"
    return None


def visible_transfer(session: Session, caller: Caller, transfer_id: str) -> Transfer:
    """A transfer its consumer, its provider entity's members or the staff may see; anyone else gets 404."""
    transfer = session.get(Transfer, transfer_id)
    if transfer is None or not may_see(caller, transfer.account_id, transfer.provider_entity_id):
        raise NotFound("no such transfer")
    return transfer


def list_transfers(
    session: Session, caller: Caller, *, agreement_id: str | None, limit: int, cursor: str | None
) -> PageOf[Transfer]:
    """The transfers the caller may see (its own, its entity's as provider, all for the staff), newest first."""
    statement = listable(caller, Transfer, Transfer.account_id, Transfer.provider_entity_id)
    if agreement_id:
        statement = statement.where(Transfer.agreement_id == agreement_id.removeprefix(AGREEMENT_PREFIX))
    return paginate_by_id(session, statement, Transfer.id, limit=limit, cursor=cursor)


def steps_of(session: Session, transfer: Transfer) -> list[TransferStep]:
    """Every step of a transfer, in order."""
    statement = select(TransferStep).where(TransferStep.transfer_id == transfer.id)
    return list(session.exec(statement.order_by(col(TransferStep.seq))))


def _side_of(caller: Caller, transfer: Transfer) -> Side:
    if caller.account_id is not None and caller.account_id == transfer.account_id:
        return Side.consumer
    if is_member(caller, transfer.provider_entity_id):
        return Side.provider
    raise Forbidden("the registry's staff read transfers; only their parties take steps")


def _agreed(session: Session, caller: Caller, agreement_id: str) -> tuple[Negotiation, Agreement]:
    """The finalized negotiation and holding agreement a consumer transfers under; 404 for anyone but its consumer."""
    negotiation_id = agreement_id.removeprefix(AGREEMENT_PREFIX)
    negotiation = session.get(Negotiation, negotiation_id)
    agreement = session.get(Agreement, negotiation_id)
    if (
        negotiation is None
        or agreement is None
        or not may_see(caller, negotiation.account_id, negotiation.provider_entity_id)
    ):
        raise NotFound("no such agreement")
    if caller.account_id != negotiation.account_id:
        raise Forbidden("only the agreement's consumer requests transfers under it")
    if negotiation.state != State.FINALIZED or negotiation.grant_id is None:
        raise Conflict(f"the agreement's negotiation is {negotiation.state}; transfers start once it is FINALIZED")
    if negotiation.dataset_id is None:
        raise Conflict("the agreement is for a product, delivered as its listing says (a data service through pdr)")
    return negotiation, agreement


def request_transfer(
    session: Session,
    caller: Caller,
    agreement_id: str,
    rules: TransferRules,
    *,
    transfer_format: str = TRANSFER_FORMAT,
    consumer_pid: str | None = None,
    callback_address: str | None = None,
) -> Handout:
    """The consumer requests a pull transfer under its agreement; pdr starts it for the provider and hands out the
    first access token. The same consumerPid again answers with the transfer it made (no new token)."""
    negotiation, agreement = _agreed(session, caller, agreement_id)
    if transfer_format != TRANSFER_FORMAT:
        raise DomainError(
            f"pdr transfers by {TRANSFER_FORMAT} only", errors=[FieldProblem("format", f"use {TRANSFER_FORMAT}")]
        )
    if consumer_pid is not None:
        earlier = session.exec(
            select(Transfer).where(Transfer.agreement_id == agreement.id, Transfer.consumer_pid == consumer_pid)
        ).first()
        if earlier is not None:
            return Handout(earlier)
    now = now_of(session)
    grant = session.get(AccessGrant, negotiation.grant_id)
    assert grant is not None
    problem = _agreement_problem(agreement.status, agreement.valid_until, grant, now)
    if problem is not None:
        raise Conflict(f"no transfer can start: {problem}")
    assert negotiation.dataset_id is not None  # _agreed refuses a product's agreement
    transfer = Transfer(
        consumer_pid=consumer_pid or f"urn:uuid:{uuid.uuid4()}",
        agreement_id=agreement.id,
        dataset_id=negotiation.dataset_id,
        provider_entity_id=negotiation.provider_entity_id,
        account_id=negotiation.account_id,
        grant_id=grant.id,
        format=transfer_format,
        state=advance(None, Step.request, Side.consumer),
        callback_address=callback_address,
        created_at=now,
        updated_at=now,
    )
    session.add(transfer)
    session.flush()
    record_step(session, transfer, Step.request, Side.consumer, caller.account_id, now)
    transfer.state = advance(TransferState.REQUESTED, Step.start, Side.provider)
    address = _new_token(transfer, rules, now)
    record_step(session, transfer, Step.start, SYSTEM_SIDE, None, now, address=_without_token(address))
    audit.record(session, caller, "transfer.request", transfer.id)
    session.commit()
    return Handout(transfer, address)


def take_step(
    session: Session,
    caller: Caller,
    transfer_id: str,
    step: Step,
    *,
    code: str | None = None,
    reason: str | None = None,
) -> Transfer:
    """One party suspends, restarts, completes or terminates a transfer: checked, recorded, committed."""
    if step == Step.request:
        raise Conflict("a transfer is requested under an agreement, not by a step")
    transfer = visible_transfer(session, caller, transfer_id)
    side = _side_of(caller, transfer)
    now = now_of(session)
    target = advance(TransferState(transfer.state), step, side)
    if step == Step.start:
        problem = agreement_problem(session, transfer, now)
        if problem is not None:
            raise Conflict(f"the transfer cannot start again: {problem}")
    transfer.state = target
    transfer.updated_at = now
    record_step(session, transfer, step, side, caller.account_id, now, code=code, reason=reason)
    audit.record(session, caller, f"transfer.{step.value}", transfer.id)
    session.commit()
    return transfer


def refresh_token(session: Session, caller: Caller, transfer_id: str, rules: TransferRules) -> Handout:
    """The consumer gets a new access token for a running transfer; the one it replaces stays good until it expires."""
    transfer = visible_transfer(session, caller, transfer_id)
    if _side_of(caller, transfer) != Side.consumer:
        raise Forbidden("only the transfer's consumer holds its access token")
    now = now_of(session)
    problem = why_stopped(session, transfer, now)
    if problem is not None:
        raise Conflict(f"no token is handed out: {problem}")
    address = _new_token(transfer, rules, now)
    audit.record(session, caller, "transfer.token", transfer.id)
    session.commit()
    return Handout(transfer, address)


def _new_token(transfer: Transfer, rules: TransferRules, now: datetime) -> dict[str, Any]:
    """Mint an access token: the current one becomes the previous one; the address carrying the new one."""
    token = TOKEN_SCHEME + secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=rules.token_seconds)
    transfer.previous_token_hash, transfer.previous_token_expires_at = transfer.token_hash, transfer.token_expires_at
    transfer.token_hash, transfer.token_expires_at = hash_token(token, rules.secret_key), expires
    transfer.updated_at = now
    return data_address(rules.base_url, transfer, token, expires)


def _without_token(address: dict[str, Any]) -> dict[str, Any]:
    properties = [p for p in address["endpointProperties"] if p["name"] != "authorization"]
    return {**address, "endpointProperties": properties}


def _next_seq(session: Session, transfer: Transfer) -> int:
    statement = select(func.max(TransferStep.seq)).where(TransferStep.transfer_id == transfer.id)
    return int(session.exec(statement).one() or 0) + 1


def record_step(
    session: Session,
    transfer: Transfer,
    step: Step,
    side: Side | str,
    actor_id: str | None,
    now: datetime,
    *,
    address: dict[str, Any] | None = None,
    code: str | None = None,
    reason: str | None = None,
) -> None:
    message = step_message(
        transfer,
        step,
        agreement_iri=AGREEMENT_PREFIX + transfer.agreement_id,
        address=address,
        code=code,
        reason=reason,
    )
    row = TransferStep(
        transfer_id=transfer.id,
        seq=_next_seq(session, transfer),
        side=str(side),
        actor_id=actor_id,
        state=transfer.state,
        message_type=str(message["@type"]),
        message=message,
        reason=reason,
        at=now,
    )
    session.add(row)
    session.flush()


def end_transfers(session: Session, agreement_id: str, reason: str, actor_id: str | None) -> int:
    """Terminate every running transfer of an agreement that stopped holding, in the caller's transaction."""
    now = now_of(session)
    running = session.exec(
        select(Transfer).where(Transfer.agreement_id == agreement_id, col(Transfer.state).in_(list(RUNNING)))
    ).all()
    for transfer in running:
        transfer.state = TransferState.TERMINATED
        transfer.updated_at = now
        record_step(session, transfer, Step.terminate, SYSTEM_SIDE, actor_id, now, reason=reason)
    return len(running)


def token_holder(session: Session, token: str, secret_key: str) -> Transfer | None:
    """The transfer a presented access token belongs to while the token has not expired; None otherwise."""
    if not token.startswith(TOKEN_SCHEME) or len(token) > 100:
        return None
    digest = hash_token(token, secret_key)
    now = now_of(session)
    transfer = session.exec(
        select(Transfer).where((Transfer.token_hash == digest) | (Transfer.previous_token_hash == digest))
    ).first()
    if transfer is None:
        return None
    if secrets.compare_digest(transfer.token_hash or "", digest):
        expires = transfer.token_expires_at
    elif secrets.compare_digest(transfer.previous_token_hash or "", digest):
        expires = transfer.previous_token_expires_at
    else:
        return None
    return transfer if expires is not None and now < expires else None
