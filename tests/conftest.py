"""Shared fixtures: a real database built by the real migrations, on SQLite always and on
PostgreSQL when WCSYNC_TEST_DATABASE_URL names one (each test in a schema of its own)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import SessionFactory, async_database_url, create_engine, make_session_factory
from app.migrate import upgrade_to_head

# The stores' secrets are encrypted at rest; without a key in the environment each engine made
# without one would create a key file in the working directory. Tests that exercise the key file
# pass `secret_key=""` to their settings.
os.environ.setdefault("WCSYNC_SECRET_KEY", "d2NzeW5jLXRlc3RzLW9ubHkta2V5LTAxMjM0NTY3ODk=")


def normalised_test_database_url(raw: str) -> str:
    """WCSYNC_TEST_DATABASE_URL read the way the app reads WCSYNC_DATABASE_URL (`postgresql://…`,
    `postgres://…`, libpq's `sslmode`): "" when unset."""
    return async_database_url(raw) if raw.strip() else ""


PG_URL = normalised_test_database_url(os.environ.get("WCSYNC_TEST_DATABASE_URL", ""))
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
RECORDED = Path(__file__).resolve().parent / "woocommerce" / "recorded"


def _pg_database_url(name: str) -> str:
    base, _, query = PG_URL.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


# Each test gets a fresh database, made from a template migrated once per worker process (the
# real migrations, run once, then copied): migrating every test's database cost about 0.3 s a test.
_templates: dict[str, str] = {}


async def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "sqlite" not in _templates:
        path = tmp_path_factory.mktemp("template") / "wcsync.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade_to_head(engine)
        await engine.dispose()
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


async def _pg_template(admin: AsyncEngine) -> str:
    if "postgresql" not in _templates:
        name = f"wcsync_tpl_{uuid.uuid4().hex[:12]}"
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(_pg_database_url(name))
        await upgrade_to_head(engine)
        await engine.dispose()
        _templates["postgresql"] = name
    return _templates["postgresql"]


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    yield
    name = _templates.pop("postgresql", None)
    if name is None or not PG_URL:
        return

    async def drop() -> None:
        admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    asyncio.run(drop())


@pytest.fixture(params=DATABASES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database URL: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "wcsync.db"
        shutil.copyfile(await _sqlite_template(tmp_path_factory), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"wcsync_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    template = await _pg_template(admin)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _pg_database_url(name)
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
