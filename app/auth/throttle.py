"""Throttling of wrong tokens per client address, kept in the database.

Why the database and not this process's memory: wcsync may run as several uvicorn workers or
replicas behind one proxy (PostgreSQL), and a limit kept in each process's memory would be
multiplied by their number and reset by every restart. The cost is one indexed read per Bearer
request and one write per wrong token; right tokens are never delayed or written.

After `max_failures` wrong tokens within `window` seconds, a client is refused (429 with
Retry-After) for `lockout` seconds, doubling with each lockout up to `lockout_max`. While it is
refused, even a right token is refused: otherwise the guessing would go on at full speed. A client
quiet for a day is forgotten.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import AuthThrottle, utcnow

FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 10
    window_seconds: int = 300
    lockout_seconds: int = 60
    lockout_max_seconds: int = 3600

    def lockout(self, lockouts_so_far: int) -> timedelta:
        seconds = self.lockout_seconds * 2 ** min(lockouts_so_far, 30)
        return timedelta(seconds=min(seconds, self.lockout_max_seconds))


def client_key(host: str | None) -> str:
    """The address a limit applies to. An IPv6 client is counted by its /64, the block one
    subscriber gets, or it could take a fresh address for every guess."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


async def seconds_blocked(session: AsyncSession, client: str, now: datetime | None = None) -> float:
    """How long this client is still refused; 0 when it is not."""
    now = now or utcnow()
    row = await session.get(AuthThrottle, client)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0.0
    return (row.blocked_until - now).total_seconds()


async def record_failure(
    session: AsyncSession, client: str, policy: ThrottlePolicy, now: datetime | None = None
) -> float:
    """Count one wrong token; return how long the client is now refused (0: not yet)."""
    now = now or utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # One row per client, created by whichever process sees it first; then updated under a row
    # lock (PostgreSQL) or the database's write lock (SQLite) so concurrent failures all count.
    await session.exec(
        insert(AuthThrottle)  # type: ignore[call-overload]
        .values(client=client, failures=0, window_started_at=now, lockouts=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["client"])
    )
    row = (
        await session.exec(select(AuthThrottle).where(AuthThrottle.client == client).with_for_update())
    ).one()
    if row.window_started_at + timedelta(seconds=policy.window_seconds) <= now:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    blocked = 0.0
    if row.failures >= policy.max_failures:
        lockout = policy.lockout(row.lockouts)
        row.blocked_until = now + lockout
        row.lockouts += 1
        row.failures = 0
        row.window_started_at = now
        blocked = lockout.total_seconds()
    row.updated_at = now
    session.add(row)
    await session.flush()
    await session.exec(
        delete(AuthThrottle).where(
            (col(AuthThrottle.updated_at) < now - FORGET_AFTER)
            & ((col(AuthThrottle.blocked_until).is_(None)) | (col(AuthThrottle.blocked_until) < now))
        )
    )
    return blocked
