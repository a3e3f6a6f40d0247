"""The routes the WordPress plugin calls with its store token: a store's failed orders (only the
orders that store holds) and where a replica on it came from. Real database and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.db import SessionFactory, session_scope
from app.models import Direction, Link, LinkState, Store
from tests.api.test_auth import add_store, bearer, running
from tests.e2e.support import TOKEN


async def _link(
    factory: SessionFactory,
    origin: str,
    origin_id: int,
    target: str,
    target_id: int | None,
    state: LinkState,
    error: str | None = None,
) -> None:
    async with session_scope(factory) as session:
        ids = {s.name: s.id for s in (await session.exec(select(Store))).all()}
        session.add(
            Link(
                origin_store_id=ids[origin],  # type: ignore[arg-type]
                origin_order_id=origin_id,
                target_store_id=ids[target],  # type: ignore[arg-type]
                target_order_id=target_id,
                direction=Direction.main_to_sub if origin == "main" else Direction.sub_to_main,
                state=state,
                last_error=error,
                last_error_code="unknown_sku" if error else None,
            )
        )


class TestPluginRoutes:
    @pytest.fixture
    async def client(self, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
        async with running(database_url) as client:
            await add_store(client, "main", role="main")
            await add_store(client, "sub1")
            await add_store(client, "sub2")
            yield client

    async def token(self, client: httpx.AsyncClient, store: str) -> str:
        response = await client.post("/api/tokens", headers=bearer(TOKEN), json={"store": store})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    async def failed(self, client: httpx.AsyncClient, store: str, token: str, **params: Any) -> Any:
        path = f"/api/stores/{store}/failed-orders"
        response = await client.get(path, headers=bearer(token), params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def test_a_store_is_told_only_of_failures_of_orders_it_holds(
        self, client: httpx.AsyncClient, session_factory: SessionFactory
    ) -> None:
        # Main order 10 failed on both sub-stores: one order for main, nothing on sub1 or sub2
        # (neither holds it). Sub1's order 5 failed to reach main: sub1's, not main's. Main
        # order 11's copy #70 on sub2 failed to be updated: sub2 holds it, as order 70.
        await _link(session_factory, "main", 10, "sub1", None, LinkState.failed, "Unknown SKU X on sub1")
        await _link(session_factory, "main", 10, "sub2", None, LinkState.failed, "Unknown SKU X on sub2")
        await _link(session_factory, "sub1", 5, "main", None, LinkState.failed, "Unknown SKU Y on main")
        await _link(session_factory, "main", 11, "sub2", 70, LinkState.failed, "Copy 70 could not be updated")
        await _link(session_factory, "main", 12, "sub1", 80, LinkState.synced)
        await _link(session_factory, "sub2", 6, "main", None, LinkState.pending)

        main = await self.failed(client, "main", await self.token(client, "main"))
        assert main["total"] == 2
        shown = [(i["order_id"], sorted(ln["target"]["store"] for ln in i["links"])) for i in main["items"]]
        assert shown == [(11, ["sub2"]), (10, ["sub1", "sub2"])]
        sub1 = await self.failed(client, "sub1", await self.token(client, "sub1"))
        assert sub1["total"] == 1
        ((item,),) = [sub1["items"]]
        assert item["order_id"] == 5
        assert [ln["last_error"] for ln in item["links"]] == ["Unknown SKU Y on main"]
        sub2 = await self.failed(client, "sub2", await self.token(client, "sub2"))
        assert (sub2["total"], [i["order_id"] for i in sub2["items"]]) == (1, [70])
        assert sub2["items"][0]["links"][0]["origin"] == {"store": "main", "order_id": 11, "admin_url": None}
        # The limit bounds the page, not the total.
        limited = await self.failed(client, "main", TOKEN, limit=1)
        assert (limited["total"], [i["order_id"] for i in limited["items"]]) == (2, [11])

    async def test_a_store_token_reads_its_own_store_only(self, client: httpx.AsyncClient) -> None:
        token = await self.token(client, "sub1")
        response = await client.get("/api/stores/sub2/failed-orders", headers=bearer(token))
        assert response.status_code == 403, response.text
        response = await client.get("/api/orders/sub2/70/origin", headers=bearer(token))
        assert response.status_code == 403, response.text
        response = await client.get("/api/stores/nope/failed-orders", headers=bearer(TOKEN))
        assert response.status_code == 404 and response.json()["error"]["code"] == "store_not_found"

    async def test_a_replica_names_its_origin_with_a_link_to_its_admin_screen(
        self, client: httpx.AsyncClient, session_factory: SessionFactory
    ) -> None:
        await _link(session_factory, "main", 12, "sub1", 80, LinkState.synced)
        token = await self.token(client, "sub1")
        response = await client.get("/api/orders/sub1/80/origin", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "store": "sub1",
            "order_id": 80,
            "origin": {"store": "main", "order_id": 12, "admin_url": None},
            "admin_url": "https://main.store.test/wp-admin/post.php?post=12&action=edit",
        }
        # An order of the store's own is no copy.
        response = await client.get("/api/orders/sub1/12/origin", headers=bearer(token))
        assert response.status_code == 404 and response.json()["error"]["code"] == "order_not_found"
