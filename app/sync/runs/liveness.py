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
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import HeldAdvisoryLock, is_sqlite

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
        self.owner = _new_key()
        self._lock = HeldAdvisoryLock(engine, PROCESS_LOCK_NAMESPACE, self.owner)

    async def hold(self) -> None:
        """Take the lock, or take it again if the connection holding it was lost."""
        if self._sqlite or await self._lock.still_held():
            return
        while not await self._lock.try_acquire():  # another process drew the same key: draw again
            self.owner = _new_key()
            self._lock = HeldAdvisoryLock(self._engine, PROCESS_LOCK_NAMESPACE, self.owner)

    async def live_owners(self, session: AsyncSession) -> set[int]:
        """The owner keys of every wcsync process alive on this database, this one included."""
        if self._sqlite:
            return {self.owner}
        await self.hold()
        conn = await session.connection()
        rows = await conn.execute(_LIVE_OWNERS, {"ns": PROCESS_LOCK_NAMESPACE})
        return {int(row[0]) for row in rows.all()} | {self.owner}

    async def release(self) -> None:
        await self._lock.release()


def lease_tag(owner: int) -> str:
    """How a process's mark is written on the links it leases."""
    return f"p{owner}"


def _new_key() -> int:
    return secrets.randbelow(2**31 - 2) + 1
