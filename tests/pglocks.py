"""Cutting the PostgreSQL session that holds an advisory lock, as a crash or a network cut would."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


async def cut_lock_holder(engine: AsyncEngine, *keys: int) -> None:
    """Terminate the one session of this database holding the advisory lock on `keys` (one
    bigint below 2**32, or a namespace and a key, as app.db.HeldAdvisoryLock takes them)."""
    if len(keys) == 1:
        where, params = "classid = 0 AND objid = :key AND objsubid = 1", {"key": keys[0]}
    else:
        where, params = "classid = :ns AND objid = :key AND objsubid = 2", {"ns": keys[0], "key": keys[1]}
    async with engine.connect() as conn:
        cut = await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                f" WHERE locktype = 'advisory' AND {where} AND {_THIS_DATABASE}"
            ),
            params,
        )
        assert cut.scalars().all() == [True]
