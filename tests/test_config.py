"""Settings: database URLs as people write them, and where the key file goes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.db import async_database_url, sqlite_path
from app.main import create_app
from tests.conftest import PG_URL, normalised_test_database_url
from tests.e2e.support import service_settings


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("sqlite:///wcsync.db", "sqlite+aiosqlite:///wcsync.db"),
        ("sqlite:////var/lib/wcsync/wcsync.db", "sqlite+aiosqlite:////var/lib/wcsync/wcsync.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p%40ss@db:5432/wcsync", "postgresql+asyncpg://u:p%40ss@db:5432/wcsync"),
        ("postgres://u@db/wcsync", "postgresql+asyncpg://u@db/wcsync"),
        ("postgresql+psycopg2://u@db/wcsync", "postgresql+asyncpg://u@db/wcsync"),
        ("postgresql://u@db/wcsync?sslmode=require", "postgresql+asyncpg://u@db/wcsync?ssl=require"),
        ("  postgresql+asyncpg://u@db/wcsync ", "postgresql+asyncpg://u@db/wcsync"),
    ],
)
def test_database_urls_as_people_write_them(written: str, used: str) -> None:
    assert async_database_url(written) == used
    assert Settings(database_url=written).database_url == used


@pytest.mark.parametrize("url", ["mysql://u@db/wcsync", "wcsync.db", ""])
def test_other_databases_are_refused_in_words(url: str) -> None:
    with pytest.raises(ValueError, match="must be a SQLite or PostgreSQL URL"):
        Settings(database_url=url)


async def test_wcsync_starts_on_a_plain_sqlite_url(tmp_path: Path) -> None:
    app = create_app(service_settings(f"sqlite:///{tmp_path / 'plain.db'}"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (tmp_path / "plain.db").exists()


@pytest.mark.skipif(not PG_URL, reason="WCSYNC_TEST_DATABASE_URL is not set")
async def test_wcsync_starts_on_a_plain_postgresql_url(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL leg")
    plain = database_url.replace("postgresql+asyncpg://", "postgres://")
    app = create_app(service_settings(plain))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}


def test_the_key_file_goes_beside_the_sqlite_file_or_in_the_working_directory(tmp_path: Path) -> None:
    assert sqlite_path("sqlite+aiosqlite:////srv/w/wcsync.db") == Path("/srv/w/wcsync.db")
    assert sqlite_path("sqlite+aiosqlite://") is None
    beside = Settings(database_url=f"sqlite:///{tmp_path}/db/w.db").resolved_secret_key_file()
    assert beside == tmp_path / "db" / "wcsync.key"
    assert (
        Settings(database_url="postgresql://u@db/w").resolved_secret_key_file() == Path.cwd() / "wcsync.key"
    )
    chosen = Settings(secret_key_file=str(tmp_path / "k")).resolved_secret_key_file()
    assert chosen == tmp_path / "k"


@pytest.mark.parametrize(
    ("raw", "used"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
        ("postgres://u:p@db/test?sslmode=require", "postgresql+asyncpg://u:p@db/test?ssl=require"),
        ("postgresql+asyncpg://postgres@127.0.0.1/test", "postgresql+asyncpg://postgres@127.0.0.1/test"),
        ("", ""),
    ],
)
def test_the_test_database_url_is_read_like_the_apps_own(raw: str, used: str) -> None:
    # Issue 18: WCSYNC_TEST_DATABASE_URL=postgresql://… failed where WCSYNC_DATABASE_URL works.
    assert normalised_test_database_url(raw) == used
