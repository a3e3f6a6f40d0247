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


async def test_upgrading_an_old_ledger_keeps_its_links_and_history(tmp_path: object) -> None:
    """On SQLite a batch migration that rebuilds `link` cascades into `event` and wipes every
    order's history: the ledger v2 migration alters the tables in place."""
    from pathlib import Path

    from alembic import command
    from sqlalchemy import text

    from app.db import create_engine
    from app.migrate import alembic_config

    url = f"sqlite+aiosqlite:///{Path(str(tmp_path)) / 'old.db'}"
    engine = create_engine(url)

    def to(revision: str) -> object:
        def run(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

        return run

    async with engine.begin() as conn:
        await conn.run_sync(to("0004"))  # type: ignore[arg-type]
        await conn.execute(
            text(
                "INSERT INTO store (id, name, role, base_url, consumer_key, consumer_secret, auth_mode, "
                "routing, enabled, origin_filter, created_at, updated_at) VALUES "
                "(1, 'main', 'main', 'https://m.test', 'ck', 'cs', 'auto', 'all', 1, 0, '2026-11-01', "
                "'2026-11-01'), (2, 'sub1', 'sub', 'https://s.test', 'ck', 'cs', 'auto', 'all', 1, 0, "
                "'2026-11-01', '2026-11-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO link (id, origin_store_id, origin_order_id, target_store_id, direction, state, "
                "attempts, created_at, updated_at) VALUES (1, 1, 10, 2, 'main_to_sub', 'synced', 0, "
                "'2026-11-01', '2026-11-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO event (link_id, store_id, order_id, kind, message, created_at) "
                "VALUES (1, 1, 10, 'created', 'order 5 on store sub1', '2026-11-01')"
            )
        )
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA foreign_keys=ON"))
        await conn.run_sync(to("head"))  # type: ignore[arg-type]
        links = (await conn.execute(text("SELECT count(*) FROM link"))).scalar()
        events = (await conn.execute(text("SELECT message FROM event"))).scalars().all()
    await engine.dispose()
    assert links == 1
    assert events == ["order 5 on store sub1"]


async def test_order_summaries_are_filled_from_the_bodies_already_read(database_url: str) -> None:
    """0008 adds the summary columns of `source_order` and fills them from each body; it goes
    down and up again on both databases."""
    import json

    from alembic import command
    from sqlalchemy import text

    from app.db import create_engine
    from app.migrate import alembic_config

    def to(revision: str, down: bool = False) -> object:
        def run(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)

        return run

    body = {
        "id": 41,
        "status": "processing",
        "currency": "EUR",
        "total": "57.50",
        "date_created_gmt": "2026-11-02T09:15:00",
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "company": ""},
    }
    guest = {"id": 42, "status": "processing", "billing": {"first_name": "", "company": "Acme"}}
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0007_counts_keyset_notes", down=True))  # type: ignore[arg-type]
            await conn.execute(
                text(
                    "INSERT INTO store (id, name, role, base_url, consumer_key, consumer_secret, auth_mode, "
                    "routing, enabled, origin_filter, admin_plugin, created_at, updated_at) VALUES "
                    "(1, 'main', 'main', 'https://m.test', 'ck', 'cs', 'auto', 'all', true, false, false, "
                    "'2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00')"
                )
            )
            for order in (body, guest):
                await conn.execute(
                    text(
                        "INSERT INTO source_order (store_id, order_id, modified_gmt, status, body, seen_at) "
                        "VALUES (1, :id, '2026-11-02T09:15:00+00:00', 'processing', :body, "
                        "'2026-11-02T09:15:00+00:00')"
                    ),
                    {"id": order["id"], "body": json.dumps(order)},
                )
        async with engine.begin() as conn:
            await conn.run_sync(to("head"))  # type: ignore[arg-type]
            rows = (
                await conn.execute(
                    text(
                        "SELECT order_id, customer, total, currency, created_gmt FROM source_order ORDER BY 1"
                    )
                )
            ).all()
            storage = (await conn.execute(text("SELECT order_storage FROM store"))).scalar()
    finally:
        await engine.dispose()
    (ada, acme) = rows
    assert ada[:4] == (41, "Ada Lovelace", "57.50", "EUR")
    assert str(ada[4]).startswith("2026-11-02 09:15:00")
    assert acme[:5] == (42, "Acme", None, None, None)
    assert storage is None


async def test_a_main_store_routed_by_skus_is_routed_all_after_0010(database_url: str) -> None:
    """Issue 15, 3: `skus` on the main store (set by `make demo` and older versions) dropped
    sub-store orders; 0010 routes such a main store `all`, and leaves sub-stores as they were."""
    from alembic import command
    from sqlalchemy import text

    from app.db import create_engine
    from app.migrate import alembic_config

    def to(revision: str, down: bool = False) -> object:
        def run(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)

        return run

    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0009_fold_counts_once", down=True))  # type: ignore[arg-type]
            for sid, name, role in ((1, "main", "main"), (2, "sub1", "sub")):
                await conn.execute(
                    text(
                        "INSERT INTO store (id, name, role, base_url, consumer_key, consumer_secret, "
                        "auth_mode, routing, enabled, origin_filter, admin_plugin, created_at, updated_at) "
                        "VALUES (:id, :name, :role, :url, 'ck', 'cs', 'auto', 'skus', true, false, false, "
                        "'2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00')"
                    ),
                    {"id": sid, "name": name, "role": role, "url": f"https://{name}.test"},
                )
        async with engine.begin() as conn:
            await conn.run_sync(to("head"))  # type: ignore[arg-type]
            rows = (await conn.execute(text("SELECT name, routing FROM store ORDER BY id"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("main", "all"), ("sub1", "skus")]
