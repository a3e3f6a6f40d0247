"""Main -> sub replication end to end: wcsync and fake stores over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.testing import FakeStore
from tests.e2e.support import make_fake, stack

SUB1 = {"SKU-TSHIRT-RED", "SKU-TSHIRT-BLUE", "SKU-MUG-001"}
SUB2 = {"SKU-MUG-001", "SKU-HOODIE-L", "SKU-STICKER"}


def three_stores(**sub_knobs: object) -> dict[str, FakeStore]:
    return {
        "main": make_fake("main"),
        "sub1": make_fake("sub1", SUB1, **sub_knobs),
        "sub2": make_fake("sub2", SUB2, **sub_knobs),
    }


async def test_orders_reach_routed_sub_stores_once_and_rerun_creates_nothing(database_url: str) -> None:
    fakes = three_stores()
    mug = fakes["main"].place_order([("SKU-MUG-001", 2)])  # sold by both subs
    hoodie = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # sub2 only
    shirt = fakes["main"].place_order([("SKU-TSHIRT-RED", 1), ("SKU-STICKER", 3)])  # both, one line each
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", auth_mode="basic")
        await s.add_store("sub1", routing="skus")
        await s.add_store("sub2", routing="skus")
        pending = (await s.api.get("/api/pending")).json()
        assert pending["total"] == 0  # nothing discovered before the first pass

        run = await s.sync()
        assert run["status"] == "succeeded", run
        assert run["counts"]["created"] == 5
        assert run["progress"] == {"done": 5, "total": 5}

        for order, targets in ((mug, {"sub1", "sub2"}), (hoodie, {"sub2"}), (shirt, {"sub1", "sub2"})):
            for name in ("sub1", "sub2"):
                if name in targets:
                    s.exact("main", order["id"], name, sold=SUB1 if name == "sub1" else SUB2)
                else:
                    assert s.replicas(name, f"main:{order['id']}") == [], (order["id"], name)
        copy = s.replicas("sub1", f"main:{shirt['id']}")[0]
        # Only the line sub1 sells, as sub1's own product id, with the origin's line total.
        assert [(li["sku"], li["product_id"]) for li in copy["line_items"]] == [
            ("SKU-TSHIRT-RED", s.fakes["sub1"].product_id("SKU-TSHIRT-RED"))
        ]
        assert copy["line_items"][0]["total"] == shirt["line_items"][0]["total"]
        assert copy["customer_id"] == 0 and copy["billing"]["email"] == shirt["billing"]["email"]
        # The origin note comes after the creates, from a low-priority queue.
        await s.notes_written()
        notes = s.fakes["sub1"].notes.get(copy["id"], [])
        assert any(f"#{shirt['number']}" in n["note"] and "'main'" in n["note"] for n in notes)

        again = await s.sync()
        assert again["counts"]["created"] == 0 and again["status"] == "succeeded"
        assert len(s.fakes["sub1"].orders) == 2 and len(s.fakes["sub2"].orders) == 3
        assert (await s.api.get("/api/pending")).json() == {
            "orders": 0,
            "copies": 0,
            "total": 0,
            "orders_by_direction": {"main_to_sub": 0, "sub_to_main": 0},
            "copies_by_direction": {"main_to_sub": 0, "sub_to_main": 0},
            "main_to_sub": {},
            "sub_to_main": {},
            "failed": 0,
            "failed_copies": 0,
            "stores_failing": [],
        }

        links = (await s.api.get(f"/api/orders/main/{mug['id']}")).json()
        assert {(ln["target"]["store"], ln["state"]) for ln in links["links"]} == {
            ("sub1", "synced"),
            ("sub2", "synced"),
        }
        assert [e["kind"] for e in links["events"]].count("created") == 2


async def test_new_store_starts_with_new_orders_only(database_url: str) -> None:
    fakes = three_stores()
    old = fakes["main"].place_order([("SKU-MUG-001", 1)])
    # Whole-second dates and the measured skew's bound make the second of adding ambiguous
    # (wcsync then copies rather than loses): this order is clearly before it.
    await asyncio.sleep(2.5)
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", backfill=False)
        await s.add_store("sub1", backfill=False)
        new = fakes["main"].place_order([("SKU-MUG-001", 1)])
        await s.sync()
        assert s.replicas("sub1", f"main:{old['id']}") == []
        s.exact("main", new["id"], "sub1", sold=SUB1)


async def test_sync_order_replicates_that_order_alone(database_url: str) -> None:
    fakes = three_stores()
    first = fakes["main"].place_order([("SKU-MUG-001", 1)])
    second = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        response = await s.api.post(f"/api/orders/main/{second['id']}/sync")
        assert response.status_code == 200, response.text
        body = response.json()
        assert [(ln["target"]["store"], ln["state"]) for ln in body["links"]] == [("sub1", "synced")]
        assert (
            body["links"][0]["target"]["order_id"] == s.exact("main", second["id"], "sub1", sold=SUB1)["id"]
        )
        assert s.replicas("sub1", f"main:{first['id']}") == []
        missing = await s.api.post("/api/orders/main/999999/sync")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "order_not_found"


async def test_store_down_leaves_links_pending_with_error_then_completes(database_url: str) -> None:
    fakes = three_stores()
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(3)]
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.add_store("sub2")
        fakes["sub1"].knobs.down = True
        run = await s.sync()
        assert run["status"] == "partial"
        assert any("sub1" in e["message"] for e in run["errors"])
        assert len(fakes["sub2"].orders) == 3  # the healthy store carried on
        pending = (await s.api.get("/api/pending")).json()
        assert pending["main_to_sub"] == {"sub1": 3} and pending["failed"] == 0
        links = (await s.api.get("/api/links", params={"store": "sub1", "state": "pending"})).json()
        assert links["total"] == 3
        assert all("503" in (ln["last_error"] or "") for ln in links["items"])
        # Each pass that could not reach the store is an attempt, and says when the next one is
        # (issue 18: "Attempts 0", "Next try —").
        tried = [(ln["attempts"], ln["next_attempt_at"] is not None) for ln in links["items"]]
        assert tried == [(1, True)] * 3
        store = (await s.api.get("/api/stores/sub1")).json()
        assert store["last_error"]
        await s.sync()
        links = (await s.api.get("/api/links", params={"store": "sub1", "state": "pending"})).json()
        assert [ln["attempts"] for ln in links["items"]] == [2] * 3

        fakes["sub1"].knobs.down = False
        run = await s.sync()
        assert run["status"] == "succeeded", run
        for order in orders:
            s.exact("main", order["id"], "sub1", sold=SUB1)


async def test_timeout_after_create_leaves_exactly_one_replica(database_url: str) -> None:
    fakes = three_stores(hang_seconds=30)
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(4)]
    async with stack(database_url, fakes, store_timeout_seconds=3.0) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        fakes["sub1"].fail_next("timeout_after_create", 1)
        run = await s.sync()
        for order in orders:
            s.exact("main", order["id"], "sub1", sold=SUB1)
        assert run["counts"]["created"] == 4
        # The batch whose answer was lost (the four orders go in batches split over the store's
        # slots) was adopted, not sent again.
        adopted = []
        for order in orders:
            links = (await s.api.get(f"/api/orders/main/{order['id']}")).json()
            adopted += [order["id"] for e in links["events"] if e["kind"] == "adopted"]
        assert adopted
        await s.sync()
        for order in orders:
            s.exact("main", order["id"], "sub1", sold=SUB1)


async def test_unknown_sku_fails_that_link_only_with_a_clear_reason(database_url: str) -> None:
    fakes = three_stores()
    bad = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # sub1 does not sell it
    good = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1", routing="all")
        run = await s.sync()
        assert run["status"] == "partial" and run["counts"]["failed"] == 1
        s.exact("main", good["id"], "sub1", sold=SUB1)
        view = (await s.api.get(f"/api/orders/main/{bad['id']}")).json()
        link = view["links"][0]
        assert link["state"] == "failed" and link["last_error_code"] == "unknown_sku"
        assert "SKU-HOODIE-L" in link["last_error"] and "sub1" in link["last_error"]
        assert s.replicas("sub1", f"main:{bad['id']}") == []
        assert (await s.api.get("/api/pending")).json()["failed"] == 1

        # The admin adds the product on sub1; Sync Order retries the parked link.
        fakes["sub1"].add_product("SKU-HOODIE-L", "Hoodie L", "35.00")
        body = (await s.api.post(f"/api/orders/main/{bad['id']}/sync")).json()
        assert body["links"][0]["state"] == "synced"
        s.exact("main", bad["id"], "sub1")


async def test_replicas_are_not_replicated_again(database_url: str) -> None:
    fakes = three_stores()
    fakes["main"].place_order([("SKU-MUG-001", 1)], meta={"_wcsync_origin": "sub1:77"})
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub2")
        run = await s.sync(direction="main_to_sub")
        assert run["counts"]["created"] == 0
        assert fakes["sub2"].orders == {}


async def test_query_string_auth_never_leaks_the_secret(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fakes = three_stores()
    fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main", auth_mode="query")
        await s.add_store("sub1", auth_mode="query")
        fakes["sub1"].knobs.down = True
        run = await s.sync()
        links = (await s.api.get("/api/links")).json()
        stores = (await s.api.get("/api/stores")).json()
        texts = [caplog.text, str(run), str(links), str(stores)]
        for fake in fakes.values():
            for text in texts:
                assert fake.consumer_secret not in text
        assert "consumer_secret" not in str(stores)


async def test_with_the_plugin_filter_a_replica_is_found_by_origin(database_url: str) -> None:
    fakes = three_stores(hang_seconds=30)
    fakes["sub1"].wcsync_plugin = True
    orders = [fakes["main"].place_order([("SKU-MUG-001", 1)]) for _ in range(2)]
    async with stack(database_url, fakes, store_timeout_seconds=3.0) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        check = (await s.api.post("/api/stores/sub1/check")).json()
        lookup = next(c for c in check["checks"] if c["name"] == "replica lookup")
        assert "filter is on" in lookup["detail"]
        fakes["sub1"].fail_next("timeout_after_create", 1)
        run = await s.sync()
        assert run["counts"]["created"] == 2
        for order in orders:
            s.exact("main", order["id"], "sub1", sold=SUB1)
        # Reconciliation asked for each replica by its origin, not for a listing since a date.
        lookups = [
            q
            for label, q in fakes["sub1"].recent_requests
            if label == "GET /orders" and "wcsync_origin=" in q
        ]
        # One per order of the lost batch (the two orders went in a batch per request slot).
        assert 1 <= len(lookups) <= 2
        assert all("wcsync_origin=main" in q and "after=" not in q for q in lookups)
