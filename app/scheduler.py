"""APScheduler wiring: replication in both directions every 5 minutes, discovery every minute,
and on PostgreSQL a leader lock so that one process of many does the scheduling."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.config import Settings
from app.db import is_sqlite
from app.models import RunKind
from app.sync.engine import SyncEngine

log = logging.getLogger("wcsync.scheduler")

LEADER_LOCK_KEY = 0x77637379  # "wcsy"


class LeaderLock:
    """`pg_try_advisory_lock` held on one dedicated connection: a lock taken on a pooled
    connection would be released when the connection went back to the pool. SQLite is a
    single process, which always leads."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(url)
        self._conn: AsyncConnection | None = None

    async def is_leader(self) -> bool:
        if self._sqlite:
            return True
        try:
            if self._conn is not None:
                await self._conn.execute(text("SELECT 1"))
                return True
            conn = await self._engine.connect()
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY})
            ).scalar()
            await conn.commit()
            if got:
                self._conn = conn
                log.info("scheduler.leader.acquired")
                return True
            await conn.close()
            return False
        except Exception as exc:  # a dead connection means we may have lost the lock
            log.warning("scheduler.leader.lost error=%s", type(exc).__name__)
            await self.release()
            return False

    async def release(self) -> None:
        """Give the lock up. Closing a pooled connection only returns it to the pool, where a
        session-level advisory lock would stay held: unlock first, and if that fails, throw the
        connection away (the lock goes with its session)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
            await conn.commit()
            await conn.close()
        except Exception:
            try:
                await conn.invalidate()
            except Exception:  # a broken connection may fail to close too; its session is gone
                pass


class Scheduler:
    def __init__(self, engine: SyncEngine, db_engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._leader = LeaderLock(db_engine, settings.database_url)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running_jobs = 0

    async def _job(self, kind: RunKind) -> None:
        if not await self._leader.is_leader():
            return
        self._running_jobs += 1
        try:
            run, _ = await self._engine.request_run(kind=kind, direction="both")
            assert run.id is not None
            await self._engine.wait(run.id)
        except Exception:
            log.exception("scheduler.job.failed kind=%s", kind)
        finally:
            self._running_jobs -= 1

    def start(self) -> None:
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
        self._scheduler.add_job(
            self._job,
            "interval",
            args=[RunKind.scheduled],
            id="replicate",
            seconds=self._settings.replicate_interval_seconds,
            **common,
        )
        self._scheduler.add_job(
            self._job,
            "interval",
            args=[RunKind.discovery],
            id="discover",
            seconds=self._settings.discover_interval_seconds,
            **common,
        )
        self._scheduler.start()
        log.info(
            "scheduler.started replicate_every=%ss discover_every=%ss",
            self._settings.replicate_interval_seconds,
            self._settings.discover_interval_seconds,
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop handing out work, let the running pass finish (bounded), then shut down:
        APScheduler's own shutdown would cancel running async jobs."""
        if self._scheduler.running:
            self._scheduler.pause()
            for _ in range(int(timeout * 10)):
                if self._running_jobs == 0:
                    break
                await asyncio.sleep(0.1)
            self._scheduler.shutdown(wait=False)
        await self._leader.release()
