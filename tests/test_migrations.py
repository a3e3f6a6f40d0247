"""The models and the migrations agree (what `alembic check` asserts), on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import app.models  # noqa: F401


async def test_models_match_migrations(db_engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    async with db_engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_migrations_create_every_table(db_engine: AsyncEngine) -> None:
    def tables(connection: Connection) -> set[str]:
        from sqlalchemy import inspect

        return set(inspect(connection).get_table_names())

    async with db_engine.connect() as conn:
        names = await conn.run_sync(tables)
    assert {"store", "cursor", "source_order", "link", "run", "event", "product", "alembic_version"} <= names
