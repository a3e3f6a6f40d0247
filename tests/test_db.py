"""The ledger file: created readable by its owner only, like the key file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import create_engine
from app.migrate import upgrade_to_head


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files 0644 unless the program asks otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_ledger_file_and_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "wcsync.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        await upgrade_to_head(engine)
        async with engine.connect() as conn:  # the WAL and shared-memory files exist while open
            await conn.execute(text("SELECT count(*) FROM store"))
            modes = {p.name: _mode(p) for p in tmp_path.iterdir()}
    finally:
        await engine.dispose()
    assert {"wcsync.db", "wcsync.db-wal", "wcsync.db-shm"} <= set(modes), modes
    assert modes == dict.fromkeys(modes, 0o600)


@pytest.mark.usefixtures("open_umask")
async def test_a_rollback_journal_is_0600_too(tmp_path: Path) -> None:
    """A journal mode other than WAL (e.g. set by hand) writes a -journal file beside it."""
    path = tmp_path / "wcsync.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA journal_mode=DELETE"))
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            journal = tmp_path / "wcsync.db-journal"
            assert journal.exists()
            assert _mode(journal) == 0o600
            await conn.commit()
    finally:
        await engine.dispose()
    assert _mode(path) == 0o600


@pytest.mark.usefixtures("open_umask")
async def test_an_existing_ledger_file_keeps_its_mode_and_content(tmp_path: Path) -> None:
    """wcsync does not change the mode of a file it did not create (an owner may share it on
    purpose); it does not truncate it either."""
    path = tmp_path / "wcsync.db"
    first = create_engine(f"sqlite:///{path}")
    async with first.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        await conn.execute(text("INSERT INTO t VALUES (7)"))
    await first.dispose()
    path.chmod(0o640)
    again = create_engine(f"sqlite:///{path}")
    try:
        async with again.connect() as conn:
            assert (await conn.execute(text("SELECT x FROM t"))).scalar() == 7
    finally:
        await again.dispose()
    assert _mode(path) == 0o640
