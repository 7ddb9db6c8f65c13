"""The SQL engine and sessions: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.exceptions import ServiceUnavailable
from storage.types import utcnow

# Where a session's use cases read the time from: the wall clock, or a test's clock it can move.
Clock = Callable[[], datetime]


class SessionFactory(Protocol):
    """Opens a session for one use case (the app's: on its database, with its clock and keys)."""

    def __call__(self, *, write: bool = True) -> Session:
        """A new session; a reader when write is false."""
        ...


def _default_database_url() -> str:
    return "sqlite:///" + str(Path("var/pdr.db").resolve())


class DatabaseSettings(BaseSettings):
    """Where the rows live."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    database_url: str = Field(default_factory=_default_database_url)
    database_pool_size: int = 10
    # How long a request waits for a free connection before it answers 503 (a pool exhausted by slow work).
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # PostgreSQL: how long opening a connection may take (libpq waits for ever by default, and a server that
    # accepts but never answers would hang every request); a URL's own connect_timeout wins.
    database_connect_timeout_seconds: int = Field(default=10, ge=2)
    database_busy_timeout_ms: int = 10_000
    # SQLite's page cache per connection (its default is 2 MiB): a catalog of a million datasets has index
    # pages far beyond that, and inserting or searching in them from disk is several times slower.
    sqlite_cache_mib: int = Field(default=64, ge=1, le=65_536)

    @property
    def is_sqlite(self) -> bool:
        """Whether the URL names an SQLite database."""
        return make_url(self.database_url).get_backend_name() == "sqlite"


class DataFolderNotWritable(ServiceUnavailable):
    """The folder that should hold the embedded database cannot be created or written."""

    title = "Data folder not writable"
    type_slug = "data-folder-not-writable"


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of an SQLite file database, or say clearly why it cannot be written."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".pdr-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataFolderNotWritable(
            f"the data folder {folder} cannot be written ({exc.strerror}); "
            "set PDR_DATABASE_URL or fix the folder's permissions"
        ) from exc


def _sqlite_pool(database: str | None, settings: DatabaseSettings) -> dict[str, Any]:
    # An in-memory database lives in one connection, whose pool takes no size.
    if database in (None, "", ":memory:"):
        return {}
    return {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_pool_size,
        "pool_timeout": settings.database_pool_timeout_seconds,
    }


def make_engine(settings: DatabaseSettings) -> Engine:
    """Build the engine for the configured URL with the pragmas and pool each engine needs."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_folder(settings.database_url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": settings.database_busy_timeout_ms / 1000},
            **_sqlite_pool(url.database, settings),
        )
        busy_timeout = settings.database_busy_timeout_ms
        cache_kib = settings.sqlite_cache_mib * 1024

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN in ways SQLAlchemy cannot see; we issue BEGIN
            # ourselves so that each transaction says whether it will write (see `begin_mode`).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
            # Checkpoint every 256 MiB of WAL rather than 4 MiB: an index page that transaction after transaction
            # writes again is copied into the database file (and synced) once per checkpoint instead of once per
            # transaction; a bulk import runs 1.6 times as fast. The WAL file is cut back to 64 MiB afterwards.
            cursor.execute("PRAGMA wal_autocheckpoint=65536")
            cursor.execute("PRAGMA journal_size_limit=67108864")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(BEGIN_MODE, 'IMMEDIATE')}")

        return engine
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    connect_args = (
        {} if "connect_timeout" in url.query else {"connect_timeout": settings.database_connect_timeout_seconds}
    )
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
    )
    event.listen(engine, "rollback", _end_reads_with_commit)
    return engine


def _end_reads_with_commit(connection: Connection) -> None:
    """End a read-only PostgreSQL transaction with COMMIT, which psycopg lets keep its prepared statements.

    psycopg forgets every statement it prepared (and the counts that make it prepare one) at each ROLLBACK, and a
    read session ends by rolling back: without this, no query of a read would ever be prepared, and PostgreSQL would
    plan each one again on every request. A READ ONLY transaction has nothing to roll back, so committing it is
    the same; the ROLLBACK that follows finds no transaction and sends nothing.
    """
    if connection.invalidated or connection.closed:
        return
    driver = connection.connection.driver_connection
    psycopg = _psycopg()
    if driver is None or psycopg is None or not driver.read_only:
        return
    if driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
        # A broken connection fails here and in the rollback after, which hands it to the pool to replace.
        with suppress(psycopg.Error):
            driver.commit()


# SQLite: a transaction that reads and then writes cannot wait for another writer (SQLITE_BUSY at once), so
# writers begin IMMEDIATE (taking the write lock up front, waiting up to the busy timeout) and readers DEFERRED
# (never blocking anyone, in WAL mode). PostgreSQL ignores the option.
BEGIN_MODE = "pdr_sqlite_begin"
READ = {BEGIN_MODE: "DEFERRED"}
WRITE = {BEGIN_MODE: "IMMEDIATE"}
# PostgreSQL: a read session's transactions are READ ONLY (psycopg begins them so, in the same round trip), so that
# ending one with COMMIT (`_end_reads_with_commit`) cannot keep a write; a read session upgraded to write begins a
# new transaction that is not.
POSTGRES_READ = {**READ, "postgresql_readonly": True}
POSTGRES_WRITE = {**WRITE, "postgresql_readonly": False}


def _options(dialect: str, write: bool) -> dict[str, Any]:
    """The options a session's transaction begins with on a database of this dialect."""
    if dialect == "postgresql":
        return POSTGRES_WRITE if write else POSTGRES_READ
    return WRITE if write else READ


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file now (PostgreSQL has nothing to do)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        # Outside any transaction: the connection runs in autocommit mode, where a checkpoint is allowed.
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
    finally:
        raw.close()


# The two option engines of each engine (they share its pool), made once rather than once per session.
_BINDS: WeakKeyDictionary[Engine, dict[bool, Engine]] = WeakKeyDictionary()
_BINDS_LOCK = threading.Lock()

# Where a session keeps its clock, and the moment its use case runs at once read (see `now_of`).
_CLOCK = "clock"
_NOW = "now"


def _bind(engine: Engine, write: bool) -> Engine:
    binds = _BINDS.get(engine)
    if binds is None:
        with _BINDS_LOCK:
            binds = _BINDS.get(engine)
            if binds is None:
                # The write bind needs no READ ONLY unset: a connection comes back to the pool read-write, whichever
                # bind took it (only a read session upgraded to write says it, on the connection it holds).
                binds = {
                    True: engine.execution_options(**WRITE),
                    False: engine.execution_options(**_options(engine.dialect.name, False)),
                }
                # A bind is a session's connection's `engine`: a session opened on it gets its engine's binds, not
                # binds layered on its options.
                for each in (engine, *binds.values()):
                    _BINDS[each] = binds
    return binds[write]


def new_session(engine: Engine, *, write: bool = True, clock: Clock = utcnow) -> Session:
    """A session for reading, or for reading and writing (the default), whose use cases read time from clock."""
    session = Session(_bind(engine, write), expire_on_commit=False)
    session.info["write"] = write
    session.info[_CLOCK] = clock
    return session


def now_of(session: Session) -> datetime:
    """The moment the session's use case runs at: read from the session's clock the first time, then fixed.

    Every use case takes "now" from here, never from the wall clock, so that a test (or an operator's replay)
    can move time for the whole service by handing the app another clock.
    """
    now = session.info.get(_NOW)
    if now is None:
        clock: Clock = session.info.get(_CLOCK, utcnow)
        now = session.info[_NOW] = clock()
    assert isinstance(now, datetime)
    return now


def set_now(session: Session, now: datetime) -> Session:
    """Fix the moment the session's use case runs at (jobs outside a request, and tests)."""
    session.info[_NOW] = now
    return session


def upgrade_to_write(session: Session) -> None:
    """Before a read-only session writes: end its read transaction so the next one begins as a writer.

    Objects already loaded stay readable but may be stale, so re-check what the write depends on (version columns
    do).
    """
    if session.info.get("write"):
        return
    session.info["write"] = True
    if session.in_transaction():
        session.commit()
    session.connection(execution_options=_options(session.get_bind().dialect.name, True))


@contextmanager
def session_scope(engine: Engine, *, write: bool = True, clock: Clock = utcnow) -> Iterator[Session]:
    """A session whose uncommitted work is rolled back when the block ends (closing does it).

    Objects stay readable after the block: commits do not expire them, and closing detaches them as loaded.
    """
    with new_session(engine, write=write, clock=clock) as session:
        yield session


# ---------------------------------------------------------------- the database being unavailable

# SQLite's primary result codes that say the database cannot serve now, rather than that a statement is wrong:
# BUSY and LOCKED (the busy timeout ran out), READONLY, IOERR, FULL, CANTOPEN and PROTOCOL.
_SQLITE_UNAVAILABLE = {
    5: "busy",
    6: "locked",
    8: "read-only",
    10: "failing to read or write",
    13: "full",
    14: "not reachable",
    15: "busy",
}
# PostgreSQL SQLSTATEs (or their classes) of the same kind: connection exceptions, insufficient resources, system
# errors, shutdowns, a cancelled statement (statement timeout), a lock timeout, and a read-only standby after a
# failover.
_POSTGRES_UNAVAILABLE = {
    "08": "not reachable",
    "53": "out of resources",
    "58": "failing",
    "57P01": "shutting down",
    "57P02": "restarting",
    "57P03": "starting up",
    "57014": "too slow to answer",
    "55P03": "busy",
    "25006": "read-only",
}


def errors_in(error: BaseException) -> Iterator[BaseException]:
    """The error, what it was explicitly raised from, and the members of exception groups, depth first."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if current.__cause__ is not None:
            pending.append(current.__cause__)


def _psycopg() -> Any:
    """psycopg once a PostgreSQL engine has imported it, else None: until then no error can be its own, and an
    embedded pdr never loads it (9 MB a process)."""
    return sys.modules.get("psycopg")


def _driver_reason(driver: BaseException) -> str | None:
    if isinstance(driver, sqlite3.Error):
        code = getattr(driver, "sqlite_errorcode", None)
        return _SQLITE_UNAVAILABLE.get(code & 0xFF) if isinstance(code, int) else None
    psycopg = _psycopg()
    if psycopg is not None and isinstance(driver, psycopg.Error):
        state = driver.sqlstate
        if state is None:  # raised by the client library itself: no connection, or a connection closed under it
            return "not reachable" if isinstance(driver, psycopg.OperationalError | psycopg.InterfaceError) else None
        return _POSTGRES_UNAVAILABLE.get(state) or _POSTGRES_UNAVAILABLE.get(state[:2])
    return None


def unavailable_reason(error: BaseException) -> str | None:
    """Why the database cannot serve now (a few words), if that is what the error says; None for any other error.

    Connection refused or lost, an exhausted pool, a busy, full or unreadable database: the request may succeed
    later, so it deserves a 503. A wrong statement, a constraint or a missing table is a fault: it stays a 500.
    """
    for current in errors_in(error):
        if isinstance(current, sa_exc.TimeoutError):
            return "out of free connections"
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return "not reachable"
            current = current.orig if current.orig is not None else current
        reason = _driver_reason(current)
        if reason is not None:
            return reason
    return None


def error_summary(error: BaseException) -> str:
    """The error's class and, for database errors, the driver's class and error code: never its text.

    SQLAlchemy's message holds the statement and its parameters, and a driver's may quote values.
    """
    summary = type(error).__name__
    driver = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if driver is not error and driver is not None:
        summary += f" from {type(driver).__module__}.{type(driver).__qualname__}"
    psycopg = _psycopg()
    if psycopg is not None and isinstance(driver, psycopg.Error) and driver.sqlstate:
        summary += f" (SQLSTATE {driver.sqlstate})"
    elif isinstance(driver, sqlite3.Error) and getattr(driver, "sqlite_errorname", None):
        summary += f" ({driver.sqlite_errorname})"
    return summary
