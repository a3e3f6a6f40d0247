"""What every sync function needs: the session factory, the store clients, the settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.config import Settings
from app.db import SessionFactory
from app.sync.clients import ClientRegistry
from app.sync.plan.mapping import ProductRef
from app.sync.retry import RetryPolicy

log = logging.getLogger("wcsync.sync")


@dataclass
class SyncContext:
    session_factory: SessionFactory
    clients: ClientRegistry
    settings: Settings
    policy: RetryPolicy
    owner: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # store id -> (loaded at, sku -> product); the database holds the same across restarts.
    catalogs: dict[int, tuple[datetime, dict[str, ProductRef]]] = field(default_factory=dict)
    # One catalogue refresh per store at a time: the workers of a pass all need it at once.
    catalog_locks: dict[int, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    # Counted (and an event set and replaced) whenever discovery commits new work: workers
    # waiting for more wake, and one that looked before the last commit does not wait at all.
    _queued_mark: int = 0
    _queued: asyncio.Event | None = None

    def links_queued_mark(self) -> int:
        """Take this before looking for due links; `wait_links_queued` then returns at once if
        discovery committed more since."""
        return self._queued_mark

    def note_links_queued(self) -> None:
        """Discovery committed links to replicate: wake whoever waits for them."""
        self._queued_mark += 1
        if self._queued is not None:
            self._queued.set()
            self._queued = None

    async def wait_links_queued(self, after: int, timeout: float) -> None:
        """Until discovery commits links to replicate after mark `after`, or `timeout` seconds."""
        if self._queued_mark != after:
            return
        if self._queued is None:
            self._queued = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queued.wait(), timeout)

    @property
    def replicate_statuses(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.settings.replicate_statuses.split(",") if s.strip())


def parse_gmt(value: Any) -> datetime | None:
    """A WooCommerce `*_gmt` date (naive `YYYY-MM-DDTHH:MM:SS`) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def kv(**fields: Any) -> str:
    """`key=value` pairs for structured log lines."""
    return " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
