"""The stores' secrets at rest: encrypted in the database file, the key file, the migration that
encrypts existing rows, and key rotation."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.crypto import PREFIX, Keyring, SecretKeyError, rotate_secrets
from app.db import create_engine, make_session_factory, session_scope
from app.main import create_app
from app.migrate import alembic_config
from app.models import Store
from app.sync import repository as repo
from tests.e2e.support import TOKEN, service_settings

SECRETS = {
    "sub1": ("ck_9f3a1b2c3d4e5f60718293a4b5c6d7e8f9012345", "cs_4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"),
    "sub2": ("ck_0a0b0c0d0e0f101112131415161718191a1b1c1d", "cs_fedcba9876543210fedcba9876543210fedcba98"),
}
WEBHOOK_SECRET = "whsec-Zq8NcV2pLx7RtY4mKd9WbF3hJs6GuA1e"
# The revision before the one that encrypts the secrets.
BEFORE = "0005"
INSERT_STORE = """
    INSERT INTO store (id, name, role, base_url, consumer_key, consumer_secret, auth_mode, routing,
                       enabled, origin_filter, created_at, updated_at, webhook_secret)
    VALUES (:id, :name, 'sub', 'https://x.test', :key, :secret, 'auto', 'all', true, false,
            CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :hook)
"""
INSERT_LINK = """
    INSERT INTO link (origin_store_id, origin_order_id, target_store_id, direction, state, attempts,
                      created_at, updated_at)
    VALUES (1, 7, 2, 'sub_to_main', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
"""


def store_body(name: str) -> dict[str, Any]:
    key, secret = SECRETS[name]
    return {
        "name": name,
        "role": "sub",
        "base_url": f"https://{name}.store.test",
        "consumer_key": key,
        "consumer_secret": secret,
    }


@asynccontextmanager
async def running(url: str, **overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(service_settings(url, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wcsync.test", headers=headers
        ) as c:
            yield app, c


async def add_stores_with_secrets(app: Any, client: httpx.AsyncClient) -> None:
    for name in SECRETS:
        assert (await client.post("/api/stores", json=store_body(name))).status_code == 201
    async with session_scope(app.state.session_factory) as session:
        (await repo.get_store(session, "sub1")).webhook_secret = WEBHOOK_SECRET


def every_secret() -> list[str]:
    return [value for pair in SECRETS.values() for value in pair] + [WEBHOOK_SECRET]


async def raw_secrets(engine: AsyncEngine) -> list[tuple[str, str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT consumer_key, consumer_secret, webhook_secret FROM store ORDER BY name")
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


class TestAtRest:
    async def test_no_secret_is_in_the_database_file(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        async with running(url, secret_key="") as (app, client):
            await add_stores_with_secrets(app, client)
            listed = (await client.get("/api/stores")).json()
            assert [s["consumer_key_hint"] for s in listed] == ["ck_…2345", "ck_…1c1d"]
        files = [p for p in tmp_path.iterdir() if p.name.startswith("wcsync.db")]
        assert files, "the database file is missing"
        content = b"".join(p.read_bytes() for p in files)  # the WAL too, if it was not folded in
        assert b"sub1.store.test" in content  # the grep does see the file's text
        for secret in every_secret():
            assert secret.encode() not in content, f"{secret[:6]}… is in the database in clear"

    async def test_the_code_reads_plain_values(self, database_url: str, db_engine: AsyncEngine) -> None:
        async with running(database_url) as (app, client):
            await add_stores_with_secrets(app, client)
            async with session_scope(app.state.session_factory) as session:
                store = await repo.get_store(session, "sub1")
                assert (store.consumer_key, store.consumer_secret) == SECRETS["sub1"]
                assert store.webhook_secret == WEBHOOK_SECRET
        for row in await raw_secrets(db_engine):
            assert all(value is None or value.startswith(PREFIX) for value in row)

    async def test_plain_text_in_an_encrypted_column_is_an_error_not_a_secret(
        self, database_url: str, db_engine: AsyncEngine
    ) -> None:
        async with running(database_url) as (app, client):
            await add_stores_with_secrets(app, client)
            async with db_engine.begin() as conn:
                await conn.execute(text("UPDATE store SET consumer_secret = 'cs_plain' WHERE name = 'sub2'"))
            with pytest.raises(SecretKeyError, match="not encrypted"):
                async with session_scope(app.state.session_factory) as session:
                    await repo.get_store(session, "sub2")


class TestKeyFile:
    async def test_created_0600_beside_the_database_on_first_start_and_reused(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'wcsync.db'}"
        (tmp_path / "data").mkdir()
        async with running(url, secret_key="") as (app, client):
            await add_stores_with_secrets(app, client)
        key_file = tmp_path / "data" / "wcsync.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text()
        async with running(url, secret_key="") as (_, client):
            assert (await client.get("/api/stores/sub1")).json()["consumer_key_hint"] == "ck_…2345"
        assert key_file.read_text() == key

    async def test_the_path_is_a_setting(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        key_file = tmp_path / "keys" / "secret.key"
        async with running(url, secret_key="", secret_key_file=str(key_file)):
            pass
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert not (tmp_path / "wcsync.key").exists()

    async def test_a_wrong_key_stops_the_start_with_a_clear_message(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        async with running(url, secret_key="") as (app, client):
            await add_stores_with_secrets(app, client)
        (tmp_path / "wcsync.key").write_text(Fernet.generate_key().decode())
        with pytest.raises(SecretKeyError, match="not the key they were encrypted with"):
            async with running(url, secret_key=""):
                pass

    def test_a_malformed_key_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "wcsync.key").write_text("not-a-key\n")
        with pytest.raises(SecretKeyError, match="not a Fernet key"):
            Keyring.from_file(tmp_path / "wcsync.key")


class TestRotation:
    async def test_rotate_with_a_key_file(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        settings = service_settings(url, secret_key="")
        async with running(url, secret_key="") as (app, client):
            await add_stores_with_secrets(app, client)
            old_keyring = Keyring.from_file(tmp_path / "wcsync.key")
            engine = app.state.db_engine
            before = await raw_secrets(engine)
            count, new_keyring = await rotate_secrets(settings)
            assert count == 5  # two keys, two secrets, one webhook secret
            after = await raw_secrets(engine)
            assert all(a != b for a, b in zip(before, after, strict=True))
            # The file holds only the new key; the running app reloads it and reads on.
            assert (tmp_path / "wcsync.key").read_text().split() == [new_keyring.keys[0].decode()]
            assert stat.S_IMODE((tmp_path / "wcsync.key").stat().st_mode) == 0o600
            assert (await client.get("/api/stores/sub2")).json()["consumer_key_hint"] == "ck_…1c1d"
            async with session_scope(app.state.session_factory) as session:
                assert (await repo.get_store(session, "sub1")).consumer_secret == SECRETS["sub1"][1]
        with pytest.raises(SecretKeyError):
            Keyring(old_keyring.keys, source="the old key").decrypt(after[0][1])

    async def test_rotate_with_the_key_in_the_environment(self, database_url: str) -> None:
        old = Fernet.generate_key().decode()
        new = Fernet.generate_key().decode()
        async with running(database_url, secret_key=old) as (app, client):
            await add_stores_with_secrets(app, client)
        count, keyring = await rotate_secrets(service_settings(database_url, secret_key=old), new)
        assert count == 5 and keyring.keys == [new.encode()]
        async with running(database_url, secret_key=new) as (app, _):
            async with session_scope(app.state.session_factory) as session:
                assert (await repo.get_store(session, "sub2")).consumer_key == SECRETS["sub2"][0]
        with pytest.raises(SecretKeyError):
            async with running(database_url, secret_key=old):
                pass

    def test_the_cli_prints_a_new_key(self, capsys: pytest.CaptureFixture[str]) -> None:
        from app import cli

        assert cli.main(["secrets", "new-key"]) == 0
        Fernet(capsys.readouterr().out.strip())  # a valid key


class TestMigration:
    async def test_existing_rows_are_encrypted_and_nothing_else_is_lost(self, database_url: str) -> None:
        engine = create_engine(database_url)
        try:

            def to(revision: str, downgrade: bool = False) -> Any:
                def run(connection: Connection) -> None:
                    cfg = alembic_config()
                    cfg.attributes["connection"] = connection
                    (command.downgrade if downgrade else command.upgrade)(cfg, revision)

                return run

            async with engine.begin() as conn:
                await conn.run_sync(to(BEFORE, downgrade=True))
            async with engine.begin() as conn:
                for index, (name, (key, secret)) in enumerate(SECRETS.items(), start=1):
                    await conn.execute(
                        text(INSERT_STORE),
                        {"id": index, "name": name, "key": key, "secret": secret, "hook": WEBHOOK_SECRET},
                    )
                await conn.execute(text(INSERT_LINK))
            async with engine.begin() as conn:
                await conn.run_sync(to("head"))
            for row in await raw_secrets(engine):
                assert all(value.startswith(PREFIX) for value in row if value is not None)
                assert not set(row) & set(every_secret())
            async with engine.connect() as conn:
                # Rebuilding `store` with foreign keys on would have cascaded into the links.
                assert (await conn.execute(text("SELECT count(*) FROM link"))).scalar() == 1
            async with session_scope(make_session_factory(engine)) as session:
                stores = {s.name: s for s in await repo.list_stores(session)}
            assert {n: (s.consumer_key, s.consumer_secret) for n, s in stores.items()} == SECRETS
            assert stores["sub1"].webhook_secret == WEBHOOK_SECRET

            async with engine.begin() as conn:
                await conn.run_sync(to(BEFORE, downgrade=True))
            assert sorted(r[:2] for r in await raw_secrets(engine)) == sorted(SECRETS.values())
            async with engine.begin() as conn:
                await conn.run_sync(to("head"))
        finally:
            await engine.dispose()

    def test_store_columns_are_the_encrypted_type(self) -> None:
        columns = Store.__table__.columns  # type: ignore[attr-defined]
        for name in ("consumer_key", "consumer_secret", "webhook_secret"):
            assert type(columns[name].type).__name__ == "EncryptedText"
