"""Throttling of wrong tokens, kept in the database.

Why the database and not this process's memory: wcsync may run as several uvicorn workers or
replicas behind one proxy (PostgreSQL), and a limit kept in each process's memory would be
multiplied by their number and reset by every restart. The cost is an indexed read per admin
Bearer request and a few writes per wrong token; right tokens are never delayed or written.

Three counters, rows of one table told apart by their key:

* `<address>` (`client_key`): wrong dashboard sign-ins from a client address.
* `t:<digest>` (`token_key`): one wrong Bearer token from one address. A WordPress plugin left
  with a wrong token retries it every minute; it is paused on its own, its lockouts capped low
  (`token_lockout_max_seconds`), and no other token from the address is refused for it. All
  sub-sites of a multisite network, and shops on shared hosting or behind NAT, share an address:
  one store's mistake must not refuse another store's right token.
* `a:<address>` (`address_key`): the different wrong Bearer tokens from an address, each counted
  once per window. That is what guessing looks like; repeating one wrong token is not.

After `max_failures` within `window` seconds a counter refuses (429 with Retry-After) for
`lockout` seconds, doubling with each lockout up to `lockout_max`. A blocked address is refused
the admin token, sign-ins and every wrong token, even a right admin token (it may be a password a
person chose: otherwise the guessing would go on at full speed); a store's right token is still
taken, since it is 256 random bits made by wcsync that no rate of guessing finds. A counter quiet
for a day is forgotten.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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


def token_key(client: str, token: str) -> str:
    """The counter of one token presented from one address. Only a digest is kept: a wrong
    token is often a right one with a typo."""
    digest = hashlib.sha256(f"{client}\x00{token}".encode()).hexdigest()[:40]
    return f"t:{digest}"


def address_key(client: str) -> str:
    """The counter of the different wrong Bearer tokens from an address."""
    return f"a:{client}"[:64]


async def seconds_blocked(session: AsyncSession, client: str, now: datetime | None = None) -> float:
    """How long this client is still refused; 0 when it is not."""
    now = now or utcnow()
    row = await session.get(AuthThrottle, client)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0.0
    return (row.blocked_until - now).total_seconds()


async def seconds_blocked_any(session: AsyncSession, keys: list[str], now: datetime | None = None) -> float:
    """How long the longest refusal among these counters still lasts; 0 when none refuses."""
    now = now or utcnow()
    rows = (await session.exec(select(AuthThrottle).where(col(AuthThrottle.client).in_(keys)))).all()
    return max(
        [(r.blocked_until - now).total_seconds() for r in rows if r.blocked_until and r.blocked_until > now],
        default=0.0,
    )


@dataclass(frozen=True)
class WrongToken:
    """What one wrong Bearer token did to the counters: how long that token's checks are now
    paused, and how long the whole address is refused (0: not)."""

    token_blocked: float
    address_blocked: float


async def record_wrong_token(
    session: AsyncSession,
    client: str,
    token: str,
    *,
    token_policy: ThrottlePolicy,
    address_policy: ThrottlePolicy,
    now: datetime | None = None,
) -> WrongToken:
    """Count one wrong Bearer token: on its own counter, and on the address's when it was not
    seen within a window (a guess, not a plugin repeating itself)."""
    now = now or utcnow()
    new, token_blocked = await _count(session, token_key(client, token), token_policy, now)
    address_blocked = 0.0
    if new:
        _, address_blocked = await _count(session, address_key(client), address_policy, now)
    await _forget_quiet(session, now)
    return WrongToken(token_blocked=token_blocked, address_blocked=address_blocked)


async def record_failure(
    session: AsyncSession, client: str, policy: ThrottlePolicy, now: datetime | None = None
) -> float:
    """Count one wrong token; return how long the client is now refused (0: not yet)."""
    now = now or utcnow()
    _, blocked = await _count(session, client, policy, now)
    await _forget_quiet(session, now)
    return blocked


async def _count(
    session: AsyncSession, client: str, policy: ThrottlePolicy, now: datetime
) -> tuple[bool, float]:
    """Count one failure on a counter: (whether it opens a window: the counter is new, or quiet
    for a window; how long it now refuses, 0 if this failure did not start a lockout). A window
    restarted by a lockout is not a new one."""
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
        await session.exec(
            select(AuthThrottle)
            .where(AuthThrottle.client == client)
            .with_for_update()
            # The row as it is now, not as this session may have read it before the lock.
            .execution_options(populate_existing=True)
        )
    ).one()
    new = row.failures == 0 and row.lockouts == 0
    restarted, blocked = count_failure_on(row, policy, now)
    session.add(row)
    await session.flush()
    return new or restarted, blocked


def count_failure_on(row: Any, policy: ThrottlePolicy, now: datetime) -> tuple[bool, float]:
    """Count one failure on a throttle row (failures, window_started_at, lockouts, blocked_until,
    updated_at): (whether its window had ended and starts again; how long it now refuses, 0 if
    this failure did not start a lockout)."""
    restarted = row.window_started_at + timedelta(seconds=policy.window_seconds) <= now
    if restarted:
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
    return restarted, blocked


async def _forget_quiet(session: AsyncSession, now: datetime) -> None:
    await session.exec(
        delete(AuthThrottle).where(
            (col(AuthThrottle.updated_at) < now - FORGET_AFTER)
            & ((col(AuthThrottle.blocked_until).is_(None)) | (col(AuthThrottle.blocked_until) < now))
        )
    )
