"""APScheduler wiring: replication in both directions every 5 minutes, discovery every minute,
the content check (edits the posts storage hides) every minute, and on PostgreSQL a leader lock so
that one process of many does the scheduling."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import HeldAdvisoryLock, is_sqlite
from app.models import RunKind
from app.sync.runs.content_check import ContentCheck
from app.sync.runs.engine import SyncEngine

log = logging.getLogger("wcsync.scheduler")

LEADER_LOCK_KEY = 0x77637379  # "wcsy"


class LeaderLock:
    """`pg_try_advisory_lock` held on a dedicated connection (app.db.HeldAdvisoryLock). SQLite is
    a single process, which always leads."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self._sqlite = is_sqlite(url)
        self._lock = HeldAdvisoryLock(engine, LEADER_LOCK_KEY)

    async def is_leader(self) -> bool:
        if self._sqlite:
            return True
        if self._lock.held:
            if await self._lock.still_held():
                return True
            log.warning("scheduler.leader.lost")
        try:
            if await self._lock.try_acquire():
                log.info("scheduler.leader.acquired")
                return True
        except Exception as exc:  # the database is unreachable: nobody leads from here
            log.warning("scheduler.leader.unavailable error=%s", type(exc).__name__)
        return False

    async def release(self) -> None:
        await self._lock.release()


class Scheduler:
    def __init__(self, engine: SyncEngine, db_engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._leader = LeaderLock(db_engine, settings.database_url)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running_jobs = 0
        self._content_check = ContentCheck(engine.ctx)

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

    async def _content_job(self) -> None:
        if not await self._leader.is_leader():
            return
        self._running_jobs += 1
        try:
            result = await self._content_check.tick()
            for error in result.errors:
                log.warning("scheduler.content_check.error %s", error)
        except Exception:
            log.exception("scheduler.job.failed kind=content_check")
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
        if self._settings.content_check_interval_seconds > 0:
            self._scheduler.add_job(
                self._content_job,
                "interval",
                id="content_check",
                seconds=self._settings.content_check_interval_seconds,
                **common,
            )
        self._scheduler.start()
        log.info(
            "scheduler.started replicate_every=%ss discover_every=%ss content_check_every=%ss",
            self._settings.replicate_interval_seconds,
            self._settings.discover_interval_seconds,
            self._settings.content_check_interval_seconds,
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
