"""Which wcsync processes are alive, so that a run left `running` by a dead one is settled.

Every process marks itself with a random key. On PostgreSQL it holds a session-level advisory
lock on that key, on a connection of its own, for as long as it lives: when the process dies,
its connection closes and PostgreSQL drops the lock at once, so another process can tell a live
run from an orphan by looking the owner's key up in `pg_locks`. SQLite serves one process only:
the only live owner is this one.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import is_sqlite

log = logging.getLogger("wcsync.liveness")

# The two-key form of the advisory lock functions keeps these apart from the leader lock (one key).
PROCESS_LOCK_NAMESPACE = 0x77637370  # "wcsp"

_LIVE_OWNERS = text(
    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = :ns AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class ProcessMark:
    """This process's owner key, held as an advisory lock on PostgreSQL."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(url)
        self._conn: AsyncConnection | None = None
        self.owner = secrets.randbelow(2**31 - 2) + 1

    async def hold(self) -> None:
        """Take the lock (again, if the connection holding it was lost)."""
        if self._sqlite:
            return
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                await self._conn.commit()
                return
            except Exception as exc:
                log.warning("liveness.lock.lost error=%s", type(exc).__name__)
                await self._drop()
        conn = await self._engine.connect()
        try:
            while not (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock(:ns, :key)"),
                    {"ns": PROCESS_LOCK_NAMESPACE, "key": self.owner},
                )
            ).scalar():
                self.owner = secrets.randbelow(2**31 - 2) + 1  # another process drew the same key
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def live_owners(self, session: AsyncSession) -> set[int]:
        """The owner keys of every wcsync process alive on this database, this one included."""
        if self._sqlite:
            return {self.owner}
        await self.hold()
        conn = await session.connection()
        rows = await conn.execute(_LIVE_OWNERS, {"ns": PROCESS_LOCK_NAMESPACE})
        return {int(row[0]) for row in rows.all()} | {self.owner}

    async def release(self) -> None:
        """Unlock before the connection goes back to the pool; if that fails, throw the
        connection away, and the lock goes with its session."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            unlock = text("SELECT pg_advisory_unlock(:ns, :key)")
            await conn.execute(unlock, {"ns": PROCESS_LOCK_NAMESPACE, "key": self.owner})
            await conn.commit()
            await conn.close()
        except Exception:
            await self._drop(conn)

    async def _drop(self, conn: AsyncConnection | None = None) -> None:
        conn = conn or self._conn
        self._conn = None
        if conn is None:
            return
        try:
            await conn.invalidate()
        except Exception:  # a broken connection may fail to close too; its session is gone
            pass
