"""Shared fixtures: a real database built by the real migrations, on SQLite always and on
PostgreSQL when WCSYNC_TEST_DATABASE_URL names one (each test in a schema of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import SessionFactory, create_engine, make_session_factory
from app.migrate import upgrade_to_head

# The stores' secrets are encrypted at rest; without a key in the environment each engine made
# without one would create a key file in the working directory. Tests that exercise the key file
# pass `secret_key=""` to their settings.
os.environ.setdefault("WCSYNC_SECRET_KEY", "d2NzeW5jLXRlc3RzLW9ubHkta2V5LTAxMjM0NTY3ODk=")

PG_URL = os.environ.get("WCSYNC_TEST_DATABASE_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
RECORDED = Path(__file__).resolve().parent / "woocommerce" / "recorded"


def _pg_database_url(name: str) -> str:
    base, _, query = PG_URL.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database URL: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        engine = create_engine(url)
        await upgrade_to_head(engine)
        await engine.dispose()
        yield url
        return
    name = f"wcsync_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_database_url(name)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(db_engine: AsyncEngine) -> SessionFactory:
    return make_session_factory(db_engine)
