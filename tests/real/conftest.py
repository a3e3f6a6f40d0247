"""Fixtures for the tests against real WooCommerce stores (`make test-real`): the stores of the
harness, and wcsync served on loopback (as in tests/e2e) pointed at them.

Every test gets a fresh wcsync with an empty ledger. The stores are shared by the whole run and
keep the orders of earlier runs, so a store is added without a backfill date: wcsync then
starts at the moment it is added, and each test finds its orders by their origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import create_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import RunKind
from tests.e2e.support import TOKEN, loopback, service_settings
from tests.real.harness import HarnessError, StoreInfo, session_stores
from tests.real.multisite import netsync, network_shops, network_stores  # noqa: F401  (the multisite network's fixtures)
from tests.real.stores import RealStore, open_stores


@pytest.fixture(scope="session")
def real_stores() -> list[StoreInfo]:
    try:
        return session_stores()
    except HarnessError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture
async def stores(real_stores: list[StoreInfo]) -> AsyncIterator[dict[str, RealStore]]:
    async with open_stores(real_stores) as opened:
        yield opened


@dataclass
class Wcsync:
    """wcsync on loopback, its API client, and the real stores it knows."""

    api: httpx.AsyncClient
    base_url: str
    app: Any
    settings: Settings
    stores: dict[str, RealStore]
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def add_store(self, name: str, *, role: str = "sub", auth_mode: str = "basic") -> dict[str, Any]:
        info = self.stores[name].info
        body = {
            "name": name,
            "role": role,
            "base_url": info.base_url,
            "consumer_key": info.consumer_key,
            "consumer_secret": info.consumer_secret,
            "auth_mode": auth_mode,
        }
        response = await self.api.post("/api/stores", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def add_all(self) -> None:
        # Both ways a shop is reached: sub2 over HTTPS with Basic auth (nginx + PHP-FPM, the local
        # CA in WCSYNC_CA_BUNDLE), sub1 over plain http with OAuth 1.0a, main over http with
        # Basic auth (the kit's must-use plugin lets WooCommerce accept it there).
        await self.add_store("main", role="main")
        await self.add_store("sub1", auth_mode="oauth1")
        await self.add_store("sub2", auth_mode="basic")

    async def sync(self, **body: Any) -> dict[str, Any]:
        response = await self.api.post("/api/sync?wait=true", json=body or None)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def discover(self) -> None:
        """A discovery pass, as the scheduler runs each minute (it is off in these tests)."""
        engine = self.app.state.engine
        run, _ = await engine.request_run(kind=RunKind.discovery, direction="both")
        await engine.wait(run.id)

    async def pending(self) -> dict[str, Any]:
        response = await self.api.get("/api/pending")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def sync_order(self, store: str, order_id: int) -> dict[str, Any]:
        response = await self.api.post(f"/api/orders/{store}/{order_id}/sync")
        assert response.status_code == 200, response.text
        return dict(response.json())


@asynccontextmanager
async def serve_wcsync(folder: Path, stores: dict[str, RealStore], **overrides: Any) -> AsyncIterator[Wcsync]:
    """A fresh wcsync (SQLite ledger in `folder`, real migrations, scheduler off) on loopback;
    `overrides` are settings."""
    url = f"sqlite+aiosqlite:///{folder / 'wcsync.db'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    # As the e2e tests run it, with a store timeout fit for real stores on a busy machine, trusting
    # the local CA of the HTTPS store.
    settings = service_settings(
        url, **({"store_timeout_seconds": 60.0, "ca_bundle": ca_bundle(stores)} | overrides)
    )
    app = create_app(settings)
    async with loopback(app) as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
        ) as api:
            yield Wcsync(api=api, base_url=base, app=app, settings=settings, stores=stores)


def ca_bundle(stores: dict[str, RealStore]) -> str:
    """WCSYNC_CA_BUNDLE for these stores: the local CA of the HTTPS one."""
    return next((str(s.info.ca_file) for s in stores.values() if s.info.ca_file), "")


@pytest.fixture
async def wcsync(tmp_path: Path, stores: dict[str, RealStore]) -> AsyncIterator[Wcsync]:
    """A fresh wcsync for each test. The real stores are the point of these tests, so the ledger
    is SQLite only."""
    async with serve_wcsync(tmp_path, stores) as served:
        yield served


def assert_run_ok(run: dict[str, Any], *own: dict[str, Any]) -> None:
    """The run succeeded; its errors, if any, are shown with the ids of this test's orders."""
    assert run["status"] == "succeeded", ([o["id"] for o in own], run["counts"], run["errors"])
