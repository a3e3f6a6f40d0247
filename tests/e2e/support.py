"""Serving ASGI apps on loopback inside the test's event loop, and a wcsync under test."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from app.config import Settings
from app.main import create_app
from app.testing import DEMO_CATALOG, FakeStore, Knobs
from app.testing.exact import assert_exact_copy
from tests.waiting import PATIENCE

TOKEN = "test-admin-token-0123456789"


@asynccontextmanager
async def loopback(app: Any) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields its base URL. uvicorn's own handling of
    forwarded headers is off, as in `wcsync serve` (the app applies WCSYNC_TRUSTED_PROXIES)."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            date_header=False,
            proxy_headers=False,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await _stop(server, task)


async def _stop(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Stop a loopback server at once, yet run the app's shutdown inside this event loop.

    `force_exit` keeps uvicorn from waiting on requests a fault left hanging (a fake store's
    "timeout after create"), but it also skips the lifespan shutdown and leaves request tasks
    pending: the garbage collector would then close those coroutines later, during some other
    test, as an "exception ignored" warning. So cancel the request tasks and finish the lifespan
    here ourselves.
    """
    server.should_exit = server.force_exit = True
    try:
        await asyncio.wait_for(task, 10)
    except TimeoutError:
        task.cancel()
    pending = list(server.server_state.tasks)
    for request in pending:
        request.cancel()
    # uvicorn logs each cancelled request as "Exception in ASGI application"; these are ours.
    uvicorn_error = logging.getLogger("uvicorn.error")
    level = uvicorn_error.level
    uvicorn_error.setLevel(logging.CRITICAL)
    try:
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        uvicorn_error.setLevel(level)
    lifespan = getattr(server, "lifespan", None)
    if lifespan is not None and lifespan.startup_event.is_set() and not lifespan.shutdown_event.is_set():
        await asyncio.wait_for(lifespan.shutdown(), PATIENCE)


def make_fake(name: str, skus: set[str] | None = None, **knobs: Any) -> FakeStore:
    store = FakeStore(
        name,
        consumer_key=f"ck_{name}_0123456789abcdef",
        consumer_secret=f"cs_{name}_secret_0123456789",
        knobs=Knobs(**knobs),
    )
    store.load_catalog([p for p in DEMO_CATALOG if skus is None or p["sku"] in skus])
    return store


@dataclass
class Stack:
    """wcsync and its fake stores, each served on loopback."""

    api: httpx.AsyncClient
    fakes: dict[str, FakeStore]
    urls: dict[str, str]
    app: Any
    settings: Settings
    registered: list[str] = field(default_factory=list)

    async def add_store(
        self,
        name: str,
        *,
        role: str = "sub",
        routing: str = "all",
        auth_mode: str = "basic",
        backfill: bool = True,
    ) -> dict[str, Any]:
        fake = self.fakes[name]
        body: dict[str, Any] = {
            "name": name,
            "role": role,
            "base_url": self.urls[name],
            "consumer_key": fake.consumer_key,
            "consumer_secret": fake.consumer_secret,
            "routing": routing,
            "auth_mode": auth_mode,
        }
        if backfill:
            body["backfill_since"] = "2020-01-01T00:00:00Z"
        response = await self.api.post("/api/stores", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def sync(self, **body: Any) -> dict[str, Any]:
        response = await self.api.post("/api/sync?wait=true", json=body or None)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def notes_written(self) -> None:
        """Wait for the origin notes queued by the passes so far."""
        await self.app.state.engine.notes_drained(timeout=PATIENCE)

    def replicas(self, target: str, origin: str) -> list[dict[str, Any]]:
        return self.fakes[target].find_by_meta("_wcsync_origin", origin)

    def exact(
        self, origin_store: str, order_id: int, target: str, *, sold: set[str] | None = None
    ) -> dict[str, Any]:
        """The one copy of an origin order on `target`, checked to be an exact copy of the origin
        as it is now (content, not a count); `sold` is what a `skus`-routed target sells."""
        copies = self.replicas(target, f"{origin_store}:{order_id}")
        assert len(copies) == 1, (origin_store, order_id, target, [c["id"] for c in copies])
        assert_exact_copy(
            self.fakes[origin_store].orders[order_id], copies[0], origin_store=origin_store, sold=sold
        )
        return copies[0]


def service_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": TOKEN,
        "scheduler_enabled": False,
        "store_timeout_seconds": 5.0,
        "backoff_base_seconds": 1.0,
        "reconcile_margin_seconds": 60,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def stack(database_url: str, fakes: dict[str, FakeStore], **overrides: Any) -> AsyncIterator[Stack]:
    settings = service_settings(database_url, **overrides)
    app = create_app(settings)
    async with _serve_all(fakes) as urls, loopback(app) as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as api:
            yield Stack(api=api, fakes=fakes, urls=urls, app=app, settings=settings)


@asynccontextmanager
async def in_process(
    database_url: str, fakes: dict[str, FakeStore], **overrides: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """wcsync in this process (the real app and its lifespan), its stores reached in process
    at http://<name>.test: a "restart" is leaving this and entering it again on the same
    database, the stores keeping their orders and addresses."""
    by_url = {f"http://{name}.test": fake for name, fake in fakes.items()}
    app = create_app(
        service_settings(database_url, **overrides),
        transport_factory=lambda store: by_url[store.base_url].transport(),
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://wcsync",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        ) as api:
            yield app, api


async def add_in_process(
    api: httpx.AsyncClient, fake: FakeStore, *, role: str = "sub", routing: str = "all", **extra: Any
) -> dict[str, Any]:
    """Register an in-process fake store (see `in_process`)."""
    body = {
        "name": fake.name,
        "role": role,
        "routing": routing,
        "base_url": f"http://{fake.name}.test",
        "consumer_key": fake.consumer_key,
        "consumer_secret": fake.consumer_secret,
        "auth_mode": "basic",
        **extra,
    }
    response = await api.post("/api/stores", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@asynccontextmanager
async def _serve_all(fakes: dict[str, FakeStore]) -> AsyncIterator[dict[str, str]]:
    urls: dict[str, str] = {}
    managers = []
    try:
        for name, fake in fakes.items():
            manager = loopback(fake.app)
            urls[name] = await manager.__aenter__()
            managers.append(manager)
        yield urls
    finally:
        for manager in reversed(managers):
            await manager.__aexit__(None, None, None)
