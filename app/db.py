"""Engine and session scope. Commit happens at the boundary only: `session_scope` here, the
request dependency in app.api.deps, and the job wrapper in app.scheduler."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app import jsoncodec

if TYPE_CHECKING:
    from app.crypto import Keyring

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+pg8000",
}
_URL_HELP = (
    "WCSYNC_DATABASE_URL must be a SQLite or PostgreSQL URL, such as sqlite:///wcsync.db, "
    "sqlite:////var/lib/wcsync/wcsync.db or postgresql://user:password@host:5432/wcsync"
)


def async_database_url(url: str) -> str:
    """The URL as people write it (`sqlite:///path`, `postgres://…`, `postgresql://…`) turned
    into the async drivers wcsync runs on (aiosqlite, asyncpg). libpq's `sslmode` becomes
    asyncpg's `ssl`, which takes the same values."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ValueError(_URL_HELP) from exc
    driver = parsed.drivername.lower()
    if driver in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if driver not in _POSTGRES_DRIVERS:
        raise ValueError(f"{_URL_HELP} (got a {parsed.drivername!r} URL)")
    parsed = parsed.set(drivername="postgresql+asyncpg")
    if "sslmode" in parsed.query:
        mode = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": mode})
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The SQLite database file of a URL; None for PostgreSQL and for an in-memory database."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_private_file(path: Path) -> None:
    """Create the SQLite database file readable and writable by its owner only (0600), as the key
    file is: it holds the ledger and the stores' encrypted secrets. SQLite gives its -wal, -shm
    and -journal files the mode of the database file. A file that exists is left as it is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError, NotADirectoryError):
        return  # there already, or no folder for it: SQLite opens it, or explains
    os.close(fd)


def create_engine(url: str, *, echo: bool = False, keyring: Keyring | None = None) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL and a busy timeout so that concurrent
    units of work wait for each other instead of failing with `database is locked`.

    `keyring` encrypts and decrypts the stores' secrets on this engine's connections; without
    one, the process's keyring from the settings is used."""
    url = async_database_url(url)
    # The JSON columns (origin snapshots above all) through orjson: the standard library's
    # encoder and decoder were a tenth of the engine's CPU per replica.
    kwargs: dict[str, Any] = {
        "echo": echo,
        "json_serializer": jsoncodec.dumps,
        "json_deserializer": jsoncodec.loads,
    }
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        database = sqlite_path(url)
        if database is not None:

            @event.listens_for(engine.sync_engine, "do_connect")
            def _private_file(*_: Any) -> None:
                create_private_file(database)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    if keyring is not None:
        from app.crypto import attach_keyring

        attach_keyring(engine, keyring)
    return engine


SessionFactory = async_sessionmaker[AsyncSession]


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


class HeldAdvisoryLock:
    """A PostgreSQL session-level advisory lock held on a connection of its own, for as long as
    this process wants it. A lock taken on a pooled connection would stay with that connection
    once it went back to the pool; here the connection is ours until `release`, and if the
    process dies, the connection closes and PostgreSQL drops the lock at once.

    `keys` is one bigint, or two ints (a namespace and a key), as the pg_advisory_* functions take.
    """

    def __init__(self, engine: AsyncEngine, *keys: int) -> None:
        if len(keys) not in (1, 2):
            raise ValueError("an advisory lock takes one key or two")
        self.keys = keys
        self._engine = engine
        self._conn: AsyncConnection | None = None
        args = ", ".join(f":k{i}" for i in range(len(keys)))
        self._lock_sql = text(f"SELECT pg_try_advisory_lock({args})")
        self._unlock_sql = text(f"SELECT pg_advisory_unlock({args})")
        self._params = {f"k{i}": key for i, key in enumerate(keys)}

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; False if another session holds it."""
        if self._conn is not None:
            return True
        conn = await self._engine.connect()
        try:
            got = bool((await conn.execute(self._lock_sql, self._params)).scalar())
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        """Whether the connection holding the lock still answers; if not, the lock is gone
        with it, and it is thrown away."""
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:
            await self._discard()
            return False

    async def release(self) -> None:
        """Unlock before closing, since closing only returns the connection to the pool; if
        unlocking fails, throw the connection away (the lock goes with its session)."""
        if self._conn is None:
            return
        try:
            await self._conn.execute(self._unlock_sql, self._params)
            await self._conn.commit()
            await self._conn.close()
            self._conn = None
        except Exception:
            await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.invalidate()
        except Exception:  # a broken connection may fail to close too; its session is gone
            pass
