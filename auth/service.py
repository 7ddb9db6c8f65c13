"""Use cases of the auth package: accounts, tokens, sign-in and the audit trail; each one transaction."""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.config import AuthSettings
from auth.exceptions import InvalidCredentials
from auth.models import Account, ApiToken, AuditEvent
from auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from auth.roles import Role
from auth.token_cache import TOKENS
from auth.tokens import generate_token, hash_token, looks_like_token, token_prefix
from storage.db import now_of, upgrade_to_write
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound, TooManyRequests
from storage.pagination import PageOf, paginate_by_id

# Writing last_used_at on every request would turn every read into a write; a minute is precise enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)
ROLES_WITH_ENTITY = (Role.provider, Role.consumer)


@dataclass(frozen=True)
class NewToken:
    """A token row and its secret, which exists only in this return value."""

    row: ApiToken
    secret: str


def _check_account_fields(role: Role, entity_id: str | None, password: str | None) -> None:
    if entity_id and role not in ROLES_WITH_ENTITY:
        raise InvalidInput(
            f"a {role.value} account does not belong to an entity",
            errors=[FieldProblem("entity_id", f"not allowed for the {role.value} role")],
        )
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "the password is too short",
            errors=[FieldProblem("password", f"at least {MIN_PASSWORD_LENGTH} characters")],
        )


def _new_token_row(
    session: Session, account_id: str, name: str, expires_at: datetime | None, settings: AuthSettings
) -> NewToken:
    secret = generate_token()
    row = ApiToken(
        account_id=account_id,
        name=name,
        prefix=token_prefix(secret),
        token_hash=hash_token(secret, settings.secret_key.get_secret_value()),
        expires_at=expires_at,
        created_at=now_of(session),
    )
    return NewToken(row=row, secret=secret)


def create_account(
    session: Session,
    caller: Caller,
    settings: AuthSettings,
    *,
    name: str,
    role: Role,
    entity_id: str | None = None,
    password: str | None = None,
) -> tuple[Account, NewToken]:
    """Create an account with its first API token."""
    _check_account_fields(role, entity_id, password)
    if session.exec(select(Account.id).where(Account.name == name)).first() is not None:
        raise Conflict(f"an account named {name!r} exists", errors=[FieldProblem("name", "already taken")])
    account = Account(
        name=name,
        role=role.value,
        entity_id=entity_id,
        password_hash=hash_password(password) if password else None,
        created_at=now_of(session),
    )
    session.add(account)
    token = _new_token_row(session, account.id, "initial", None, settings)
    session.add(token.row)
    audit.record(session, caller, "account.create", f"account:{account.id}")
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # The name race is caught above in the common case; here the database had the last word.
        raise InvalidInput(
            "the account could not be created: the entity does not exist or the name is taken",
            errors=[FieldProblem("entity_id", "no such entity"), FieldProblem("name", "may be taken")],
        ) from exc
    return account, token


def set_password(session: Session, caller: Caller, name: str, password: str) -> None:
    """Set or replace an account's web sign-in password."""
    _check_account_fields(Role.admin, None, password)
    account = session.exec(select(Account).where(Account.name == name)).first()
    if account is None:
        raise NotFound(f"no account named {name!r}")
    account.password_hash = hash_password(password)
    session.add(account)
    audit.record(session, caller, "account.set_password", f"account:{account.id}")
    session.commit()


def issue_token(
    session: Session, caller: Caller, settings: AuthSettings, *, name: str, expires_in: timedelta | None
) -> NewToken:
    """Give the calling account another token."""
    assert caller.account_id is not None
    expires_at = now_of(session) + expires_in if expires_in else None
    token = _new_token_row(session, caller.account_id, name, expires_at, settings)
    session.add(token.row)
    audit.record(session, caller, "token.create", f"token:{token.row.id}")
    session.commit()
    return token


def list_tokens(session: Session, caller: Caller, *, limit: int, cursor: str | None) -> PageOf[ApiToken]:
    """The calling account's tokens, newest first."""
    statement = select(ApiToken).where(ApiToken.account_id == caller.account_id)
    return paginate_by_id(session, statement, ApiToken.id, limit=limit, cursor=cursor)


def revoke_token(session: Session, caller: Caller, token_id: str) -> ApiToken:
    """Revoke one of the caller's tokens (admins: anyone's); revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.account_id != caller.account_id and not caller.has_role(Role.admin)):
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = now_of(session)
        session.add(token)
    audit.record(session, caller, "token.revoke", f"token:{token.id}")
    session.commit()
    # Other processes stop trusting it within a second (auth/token_cache.py); this one at once.
    TOKENS.forget_token(token.id)
    return token


def check_token(session: Session, secret: str, settings: AuthSettings) -> tuple[ApiToken, Account]:
    """The live token and its account, or InvalidCredentials without saying why; notes the token's use."""
    if not looks_like_token(secret):
        raise InvalidCredentials()
    digest = hash_token(secret, settings.secret_key.get_secret_value())
    row = session.exec(select(ApiToken, Account).join(Account).where(ApiToken.token_hash == digest)).first()
    if row is None:
        raise InvalidCredentials()
    token, account = row
    now = now_of(session)
    if (
        not hmac.compare_digest(token.token_hash, digest)
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not account.is_active
    ):
        raise InvalidCredentials()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        upgrade_to_write(session)
        session.execute(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
        session.commit()
    return token, account


def authenticate(session: Session, secret: str, settings: AuthSettings) -> Account:
    """The account behind a live token, or InvalidCredentials without saying why."""
    return check_token(session, secret, settings)[1]


def sign_in_wait(session: Session, caller: Caller, settings: AuthSettings, name: str) -> int:
    """Seconds the caller's address must wait before it may try this name again; 0 when it may now.

    Failures count per name *and* address, so that nobody can lock an account out from elsewhere; each failure
    past the limit doubles the wait (up to a cap), and a successful sign-in from the address starts again. An
    address that fails on many names is slowed down as a whole.
    """
    now = now_of(session)
    address = caller.client_addr or "-"
    lookback = now - timedelta(seconds=settings.login_max_lockout_seconds)
    streak, last = audit.failure_streak(session, "auth.login", lookback, target=f"name:{name}", client_addr=address)
    wait = 0.0
    if streak >= settings.login_max_failures and last is not None:
        doublings = min(streak - settings.login_max_failures, 32)
        lockout = min(settings.login_window_seconds * 2**doublings, settings.login_max_lockout_seconds)
        wait = (last + timedelta(seconds=lockout) - now).total_seconds()
    window = now - timedelta(seconds=settings.login_window_seconds)
    # An address may try a few names (a shared office) before it is slowed down.
    if audit.count_failures(session, "auth.login", window, client_addr=address) >= 4 * settings.login_max_failures:
        wait = max(wait, settings.login_window_seconds)
    return math.ceil(wait) if wait > 0 else 0


def login(
    session: Session, caller: Caller, settings: AuthSettings, *, name: str, password: str
) -> tuple[Account, NewToken]:
    """Password sign-in: a short-lived session token, with failures limited per name and address."""
    wait = sign_in_wait(session, caller, settings, name)
    if wait:
        raise TooManyRequests("too many failed sign-ins; try again later", headers={"Retry-After": str(wait)})
    account = session.exec(select(Account).where(Account.name == name)).first()
    valid = verify_password(password, account.password_hash if account else None)
    if account is None or not valid or not account.is_active:
        audit.record(session, caller, "auth.login", f"name:{name}", outcome="failure", status=401)
        session.commit()
        error = InvalidCredentials("the name or the password is wrong")
        error.audited = True
        raise error
    expires_at = now_of(session) + timedelta(hours=settings.session_ttl_hours)
    token = _new_token_row(session, account.id, "web session", expires_at, settings)
    session.add(token.row)
    audit.record(session, caller, "auth.login", f"name:{name}")
    session.commit()
    return account, token


def list_audit(
    session: Session, *, limit: int, cursor: str | None, actor_id: str | None = None, action: str | None = None
) -> PageOf[AuditEvent]:
    """Audit rows, newest first, optionally for one actor or one action."""
    statement = select(AuditEvent)
    if actor_id:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return paginate_by_id(session, statement, AuditEvent.id, limit=limit, cursor=cursor)
