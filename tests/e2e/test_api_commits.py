"""The API answers only after its unit of work is committed: a write the database refuses at
commit is never reported as done, and what a response reports is already readable."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.db import create_engine, is_sqlite
from tests.e2e.support import make_fake, stack

# A constraint trigger runs at COMMIT: the update itself succeeds, the commit fails.
REFUSE_AT_COMMIT = [
    """CREATE FUNCTION wcsync_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'refused at commit by the test'; END $$""",
    """CREATE CONSTRAINT TRIGGER wcsync_test_refuse AFTER UPDATE ON store
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wcsync_test_refuse()""",
]


async def test_a_write_refused_at_commit_is_not_reported_as_done(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("needs a deferred constraint trigger (PostgreSQL)")
    db = create_engine(database_url)
    try:
        fakes = {"main": make_fake("main")}
        async with stack(database_url, fakes) as s:
            await s.add_store("main", role="main")
            async with db.begin() as conn:
                for statement in REFUSE_AT_COMMIT:
                    await conn.execute(text(statement))
            response = await s.api.patch("/api/stores/main", json={"enabled": False})
            assert response.status_code == 500, response.text
            assert response.json()["error"]["code"] == "internal_error"
            assert "refused at commit" not in response.text  # no database detail leaks out
            assert fakes["main"].consumer_secret not in response.text
            assert (await s.api.get("/api/stores/main")).json()["enabled"] is True
    finally:
        await db.dispose()


async def test_what_a_response_reports_is_already_committed(database_url: str) -> None:
    fakes = {"main": make_fake("main")}
    db = create_engine(database_url)
    try:
        async with stack(database_url, fakes) as s:
            await s.add_store("main", role="main")
            for enabled in (False, True, False):
                response = await s.api.patch("/api/stores/main", json={"enabled": enabled})
                assert response.json()["enabled"] is enabled
                async with db.connect() as conn:  # another connection, at once
                    stored = await conn.execute(text("SELECT enabled FROM store WHERE name = 'main'"))
                    assert bool(stored.scalar()) is enabled
    finally:
        await db.dispose()
