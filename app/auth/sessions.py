"""Dashboard sessions: a random id in the cookie, its hash in the database, an expiry, and the
fingerprint of the admin token it was opened with."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import AdminSession, utcnow


def token_fingerprint(admin_token: str) -> str:
    """Identifies the admin token without being usable as one (keyed by the token itself)."""
    return hmac.new(admin_token.encode(), b"wcsync admin session", hashlib.sha256).hexdigest()


def _id_hash(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


async def open_session(session: AsyncSession, admin_token: str, hours: float) -> str:
    """Start a session and return its id for the cookie; the database keeps only its hash.
    Expired sessions are cleared on the way."""
    now = utcnow()
    await session.exec(delete(AdminSession).where(col(AdminSession.expires_at) <= now))
    raw_id = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            id_hash=_id_hash(raw_id),
            token_fingerprint=token_fingerprint(admin_token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    await session.flush()
    return raw_id


async def session_is_valid(session: AsyncSession, raw_id: str, admin_token: str) -> bool:
    """Whether the cookie's session exists, has not expired, and was opened with the admin
    token in force now."""
    if not raw_id or len(raw_id) > 200:
        return False
    row = (await session.exec(select(AdminSession).where(AdminSession.id_hash == _id_hash(raw_id)))).first()
    if row is None or row.expires_at <= utcnow():
        return False
    return hmac.compare_digest(row.token_fingerprint, token_fingerprint(admin_token))


async def close_session(session: AsyncSession, raw_id: str) -> None:
    """Sign-out: the session is gone from the database, so a copied cookie no longer works."""
    if raw_id:
        await session.exec(delete(AdminSession).where(col(AdminSession.id_hash) == _id_hash(raw_id)))


async def end_stale_sessions(session: AsyncSession, admin_token: str) -> int:
    """At start-up: drop sessions that expired or were opened with another admin token."""
    result = await session.exec(
        delete(AdminSession).where(
            (col(AdminSession.expires_at) <= utcnow())
            | (col(AdminSession.token_fingerprint) != token_fingerprint(admin_token))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
