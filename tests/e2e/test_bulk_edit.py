"""A bulk edit (issue 15, item 9): a thousand orders whose last change fell in one second. The
keyset walk's `exclude=` list of the ids read at that second grew past the 8 KB request line
nginx accepts; the store answered 414 and the cursor never passed that second, so no later order
of the store was ever copied. End to end, with wcsync in process and fake stores that answer 414
as nginx does, checked on the stores themselves."""

from __future__ import annotations

from typing import Any

import httpx

from app.testing import DEMO_CATALOG, FakeStore
from app.testing.exact import assert_exact_copy
from app.testing.state import EDIT_META_KEY
from tests.e2e.support import add_in_process, in_process, make_fake

BULK = 1000
IMPORTED = "2026-11-02T09:30:00"


def shop_with_history(name: str) -> FakeStore:
    """As `make_fake`, with six-digit order ids (9 bytes each in an encoded `exclude=`)."""
    store = FakeStore(
        name,
        consumer_key=f"ck_{name}_0123456789abcdef",
        consumer_secret=f"cs_{name}_secret_0123456789",
        product_id_offset=100_000,
    )
    store.load_catalog(DEMO_CATALOG)
    return store


async def sync(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post("/api/sync?wait=true")
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_all_copied(fakes: dict[str, FakeStore], orders: list[dict[str, Any]]) -> None:
    """Each order has one copy on sub1, equal to it (one scan of sub1, not one per order)."""
    main, sub1 = fakes["main"], fakes["sub1"]
    found: dict[str, list[dict[str, Any]]] = {}
    for copy in sub1.orders.values():
        for meta in copy["meta_data"]:
            if meta["key"] == "_wcsync_origin":
                found.setdefault(meta["value"], []).append(copy)
    missing = [o["id"] for o in orders if len(found.get(f"main:{o['id']}", [])) != 1]
    assert missing == []
    for order in orders:
        (copy,) = found[f"main:{order['id']}"]
        assert_exact_copy(main.orders[order["id"]], copy, origin_store="main")


async def test_a_bulk_edit_of_a_thousand_orders_stops_nothing(database_url: str) -> None:
    """1,000 orders imported in one second, one more order an hour later: all copied, the later
    one too. Then the shop completes the thousand in one bulk action and, while wcsync reads that
    second, keeps editing orders of it (more per page than the walk's overlap): once it stops,
    every copy equals its origin, none made twice."""
    fakes = {"main": shop_with_history("main"), "sub1": make_fake("sub1")}
    main = fakes["main"]
    bulk = [main.place_order([("SKU-STICKER", 1 + i % 3)]) for i in range(BULK)]
    for order in bulk:
        main.update_order_direct(order["id"], date_modified_gmt=IMPORTED)
    later = main.place_order([("SKU-MUG-001", 2)])
    main.update_order_direct(later["id"], date_modified_gmt="2026-11-02T10:30:00")
    async with in_process(database_url, fakes) as (_, api):
        await add_in_process(api, main, role="main", backfill_since="2020-01-01T00:00:00Z")
        await add_in_process(api, fakes["sub1"])
        run = await sync(api)
        assert_all_copied(fakes, [*bulk, later])
        assert run["status"] == "succeeded", run
        sent = [q for label, q in main.recent_requests if label == "GET /orders"]
        assert any("orderby=id" in q and "offset=" in q for q in sent), "the crowded second read alone"
        assert all(q.count("%2C") < 300 for q in sent if "exclude=" in q)

        # "Change status to completed" on all of them at once, now.
        completed = main.clock().strftime("%Y-%m-%dT%H:%M:%S")
        for order in bulk:
            main.update_order_direct(order["id"], status="completed", date_modified_gmt=completed)
        main.knobs.edit_while_listing = 25  # per page: more than the walk's overlap of 20
        await sync(api)
        main.knobs.edit_while_listing = 0
        edited = [o["id"] for o in bulk if main.orders[o["id"]]["date_modified_gmt"] != completed]
        assert edited and all(
            any(m["key"] == EDIT_META_KEY for m in main.orders[i]["meta_data"]) for i in edited
        )
        # The orders the shop edited moved past the pass's end, to "now": the next pass meets them.
        run = await sync(api)
        assert_all_copied(fakes, [*bulk, later])
        # (the copies' statuses too: the origins are completed)
        assert all(main.orders[o["id"]]["status"] == "completed" for o in bulk)
        assert run["status"] == "succeeded", run
        assert (await api.get("/api/pending")).json()["total"] == 0
        stores = {s["name"]: s for s in (await api.get("/api/stores")).json()}
        assert stores["main"]["last_error"] is None
