"""The ``/__fake__/`` control API, and serving stores over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.testing import FakeStore, Knobs
from app.testing.server import build_parser, serve_async, serve_in_background
from tests.testing.conftest import API, make_store
from tests.waiting import PATIENCE, until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def control(store: FakeStore) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=store.transport(), base_url=f"{store.base_url}/__fake__")


class TestControlApi:
    async def test_knobs_round_trip_and_reject_unknowns(
        self, store: FakeStore, control: httpx.AsyncClient
    ) -> None:
        async with control:
            changed = await control.put("/knobs", json={"latency_base_ms": 5, "down": False, "seed": 3})
            assert changed.status_code == 200 and changed.json()["latency_base_ms"] == 5.0
            assert store.knobs.latency_base_ms == 5.0 and store.knobs.seed == 3
            assert (await control.get("/knobs")).json() == store.knobs.to_dict()
            assert (await control.put("/knobs", json={"warp": 9})).status_code == 400
            assert (await control.put("/knobs", json={"down": "yes"})).status_code == 400

    async def test_a_refund_made_in_wp_admin_and_one_shot_faults_cleared(
        self, store: FakeStore, control: httpx.AsyncClient
    ) -> None:
        async with control:
            order = (await control.post("/orders", json={"items": [["SKU-MUG-001", 2]]})).json()
            refund = await control.post(f"/orders/{order['id']}/refunds", json={"amount": "5.00"})
            assert refund.status_code == 201 and refund.json()["amount"] == "5.00"
            assert [r["total"] for r in store.orders[order["id"]]["refunds"]] == ["-5.00"]
            too_much = await control.post(f"/orders/{order['id']}/refunds", json={"amount": "999.00"})
            assert too_much.status_code == 409 and "refund" in too_much.text
            assert (await control.post("/orders/999999/refunds", json={"amount": "1.00"})).status_code == 409
            await control.post("/fail_next", json={"kind": "5xx", "count": 2})
            assert store.pending_faults == ["5xx", "5xx"]
            cleared = await control.delete("/fail_next")
            assert cleared.status_code == 200 and cleared.json() == {"pending": []}
            assert store.pending_faults == []

    async def test_orders_products_emails_and_stats(
        self, store: FakeStore, control: httpx.AsyncClient
    ) -> None:
        async with control, store.client() as rest:
            product = await control.post("/products", json={"sku": "SKU-NEW", "name": "New", "price": "2.00"})
            assert product.status_code == 201
            placed = await control.post(
                "/orders",
                json={"items": [["SKU-NEW", 2], {"sku": "SKU-MUG-001"}], "meta": {"_wcsync_origin": "x:1"}},
            )
            assert placed.status_code == 201
            order = placed.json()
            assert order["total"] == "18.50"  # 4.00 + 9.50 + 5.00 shipping
            bad = await control.post("/orders", json={"items": [["SKU-NOPE", 1]]})
            assert bad.status_code == 400

            await rest.delete(f"{API}/orders/{order['id']}")
            listed = (await control.get("/orders")).json()
            assert [(o["id"], o["status"]) for o in listed] == [(order["id"], "trash")]
            by_meta = await control.get("/orders", params={"meta_key": "_wcsync_origin", "meta_value": "x:1"})
            assert [o["id"] for o in by_meta.json()] == [order["id"]]

            patched = await control.patch(f"/orders/{order['id']}", json={"status": "completed"})
            assert patched.json()["status"] == "completed"
            assert (await control.patch("/orders/999999", json={})).status_code == 404

            emails = (await control.get("/emails")).json()
            assert [e["type"] for e in emails] == [
                "new_order",
                "customer_processing_order",
                "customer_completed_order",
            ]
            stats = (await control.get("/stats")).json()
            # The control API is not counted; only the one REST DELETE is.
            assert stats["requests"] == {"DELETE /orders/{id}": 1}
            assert stats["orders_created"] == 1

    async def test_fail_next_and_reset(self, store: FakeStore, control: httpx.AsyncClient) -> None:
        async with control, store.client() as rest:
            queued = await control.post("/fail_next", json={"kind": "429", "count": 2})
            assert queued.json() == {"pending": ["429", "429"]}
            assert (await control.post("/fail_next", json={"kind": "nope"})).status_code == 422
            assert (await rest.get(f"{API}/orders")).status_code == 429
            store.knobs.latency_base_ms = 1
            await control.post("/orders", json={"items": [["SKU-MUG-001", 1]]})
            assert (await control.post("/reset")).status_code == 204
            assert store.orders == {} and store.emails == [] and store.pending_faults == []
            assert store.knobs.latency_base_ms == 0
            assert len(store.products) == 9  # five simple products, the polo and its three variations
            assert (await rest.get(f"{API}/orders")).status_code == 200

    async def test_control_is_loopback_only_and_exempt_from_faults(self, store: FakeStore) -> None:
        remote = httpx.ASGITransport(app=store.app, client=("10.1.2.3", 4444))
        async with httpx.AsyncClient(transport=remote, base_url=store.base_url) as outsider:
            assert (await outsider.get("/__fake__/stats")).status_code == 403
        store.knobs.down = True
        async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as local:
            assert (await local.get("/__fake__/knobs")).json()["down"] is True
            assert (await local.get(f"{API}/orders")).status_code == 503


class TestServing:
    async def test_served_store_uses_its_real_url(self) -> None:
        store = make_store(storage="hpos")
        order = store.place_order([("SKU-MUG-001", 1)])
        async with (
            serve_in_background(store) as url,
            httpx.AsyncClient(base_url=url, auth=("ck_test", "cs_test")) as client,
        ):
            assert store.base_url == url
            response = await client.get(f"{API}/orders/{order['id']}")
            assert response.status_code == 200
            assert response.json()["_links"]["self"][0]["href"] == f"{url}{API}/orders/{order['id']}"
            assert len(response.headers.get_list("date")) == 1
            assert "server" not in response.headers
            stats = await client.get("/__fake__/stats")
            assert stats.json()["requests"] == {"GET /orders/{id}": 1}

    async def test_drop_after_create_cuts_a_real_connection(self) -> None:
        store = make_store()
        store.fail_next("drop_after_create")
        async with (
            serve_in_background(store) as url,
            httpx.AsyncClient(base_url=url, auth=("ck_test", "cs_test")) as client,
        ):
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(
                    f"{API}/orders", json={"line_items": [{"sku": "SKU-MUG-001", "quantity": 1}]}
                )
        assert len(store.orders) == 1

    async def test_an_unsettled_store_adopts_the_address_it_is_reached_at(self) -> None:
        store = FakeStore("loose")
        assert store.base_url == "https://loose.store.test"
        async with httpx.AsyncClient(transport=store.transport(), base_url="http://127.0.0.1:9999") as client:
            index = await client.get("/wp-json/")
        assert index.json()["url"] == "http://127.0.0.1:9999" == store.base_url

    async def test_serve_async_puts_stores_on_consecutive_ports(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        stores = [make_store("main"), make_store("sub1")]
        task = asyncio.create_task(serve_async(stores, "127.0.0.1", port))
        try:
            async with httpx.AsyncClient() as client:

                async def names_when_up() -> list[str] | None:
                    with contextlib.suppress(httpx.HTTPError):
                        return [
                            (await client.get(f"http://127.0.0.1:{port + i}/wp-json/")).json()["name"]
                            for i in range(2)
                        ]
                    return None

                names = await until(names_when_up, "the two stores to answer")
            assert names == ["WC rig main", "WC rig sub1"]
            assert [s.base_url for s in stores] == [
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{port + 1}",
            ]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def test_cli_flags_become_knobs(self) -> None:
        args = build_parser().parse_args(
            [
                "--name",
                "main",
                "--name",
                "sub1",
                "--http",
                "--latency-base-ms",
                "90",
                "--max-concurrency",
                "2",
            ]
        )
        assert args.name == ["main", "sub1"] and args.http is True
        assert (args.latency_base_ms, args.max_concurrency, args.down) == (90.0, 2, None)
        assert Knobs.realistic().latency_per_order_ms == 130.0

    def test_module_entry_point_prints_help(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "app.testing", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        assert done.returncode == 0
        assert "--timeout-after-create-rate" in done.stdout and "--catalog" in done.stdout
