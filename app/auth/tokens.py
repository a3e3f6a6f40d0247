"""Store tokens: one per WordPress plugin, scoped to its store, stored hashed, shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import TokenNotFound
from app.models import ApiToken, Store, utcnow
from app.sync import repository as repo

PREFIX = "wcst_"
# last_used_at is a hint for people, not an audit log: write it at most once a minute.
_LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def looks_like_store_token(raw: str) -> bool:
    return raw.startswith(PREFIX) and len(raw) <= 200


async def create_token(session: AsyncSession, store_name: str, label: str = "") -> tuple[ApiToken, str]:
    """A new token for the store's plugin; the raw token is returned here and never again."""
    store = await repo.get_store(session, store_name)
    assert store.id is not None
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(store_id=store.id, token_hash=_hash(raw), hint=raw[: len(PREFIX) + 6], label=label)
    session.add(token)
    await session.flush()
    return token, raw


async def list_tokens(session: AsyncSession) -> list[tuple[ApiToken, str]]:
    """Every store token with its store's name, oldest first."""
    rows = await session.exec(
        select(ApiToken, Store.name)
        .join(Store, col(Store.id) == col(ApiToken.store_id))
        .order_by(col(ApiToken.id))
    )
    return [(token, name) for token, name in rows.all()]


async def revoke_token(session: AsyncSession, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise TokenNotFound(token_id)
    await session.delete(token)
    await session.flush()


async def revoke_store_tokens(session: AsyncSession, store_id: int) -> None:
    """A store taken out of use takes its plugin's tokens with it."""
    for token in (await session.exec(select(ApiToken).where(ApiToken.store_id == store_id))).all():
        await session.delete(token)
    await session.flush()


async def store_of_token(session: AsyncSession, raw: str) -> tuple[int, str] | None:
    """(token id, store name) for a valid store token, else None."""
    if not looks_like_store_token(raw):
        return None
    row = (
        await session.exec(
            select(ApiToken, Store.name)
            .join(Store, col(Store.id) == col(ApiToken.store_id))
            .where(ApiToken.token_hash == _hash(raw))
        )
    ).first()
    if row is None:
        return None
    token, name = row
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_PRECISION:
        token.last_used_at = now
        await session.flush()
    assert token.id is not None
    return token.id, name
