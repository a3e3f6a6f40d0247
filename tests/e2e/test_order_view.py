"""What the dashboard reads of orders: each order's summary and admin screen, the Sync Order
history of an unchanged order, unknown-SKU advice by direction, and store health."""

from __future__ import annotations

from typing import Any

from app.testing import FakeStore
from tests.e2e.support import make_fake, stack

SUB1 = {"SKU-TSHIRT-RED", "SKU-TSHIRT-BLUE", "SKU-MUG-001"}


def stores(sub_storage: str = "hpos") -> dict[str, FakeStore]:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1", SUB1)}
    fakes["sub1"].state.storage = sub_storage  # type: ignore[assignment]
    return fakes


def link_to(body: dict[str, Any], target: str) -> dict[str, Any]:
    (link,) = [ln for ln in body["links"] if ln["target"]["store"] == target]
    return link


async def test_links_carry_the_order_summary_and_each_storage_admin_url(database_url: str) -> None:
    fakes = stores()
    order = fakes["main"].place_order(
        [("SKU-MUG-001", 2)], billing={"first_name": "Grace", "last_name": "Hopper"}
    )
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        # Learned when each store was added (one system_status request).
        listed = {st["name"]: st["order_storage"] for st in (await s.api.get("/api/stores")).json()}
        assert listed == {"main": "posts", "sub1": "hpos"}
        await s.sync()
        replica = s.exact("main", order["id"], "sub1", sold=SUB1)

        page = (await s.api.get("/api/links")).json()
        (link,) = page["items"]
        assert link["order"] == {
            "status": "processing",
            "customer": "Grace Hopper",
            "total": order["total"],
            "currency": "USD",
            "created_at": order["date_created_gmt"] + "Z",
        }
        main_url, sub_url = s.urls["main"], s.urls["sub1"]
        assert link["origin"]["admin_url"] == f"{main_url}/wp-admin/post.php?post={order['id']}&action=edit"
        assert link["target"]["admin_url"] == (
            f"{sub_url}/wp-admin/admin.php?page=wc-orders&action=edit&id={replica['id']}"
        )

        view = (await s.api.get(f"/api/orders/main/{order['id']}")).json()
        assert view["order"]["customer"] == "Grace Hopper" and view["order"]["total"] == order["total"]
        assert view["admin_url"] == link["origin"]["admin_url"]
        # The replica looked up on its own store: its own screen, its origin's summary.
        seen_from_copy = (await s.api.get(f"/api/orders/sub1/{replica['id']}")).json()
        assert seen_from_copy["admin_url"] == link["target"]["admin_url"]
        assert seen_from_copy["order"]["customer"] == "Grace Hopper"

        # The summary follows the order: an edit on the main store shows after the next pass.
        fakes["main"].update_order_direct(order["id"], billing={"first_name": "Grace B."})
        await s.sync()
        (link,) = (await s.api.get("/api/links")).json()["items"]
        assert link["order"]["customer"] == "Grace B. Hopper"


async def test_the_store_check_records_where_a_store_keeps_its_orders(database_url: str) -> None:
    fakes = stores(sub_storage="posts")
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        assert (await s.api.get("/api/stores/sub1")).json()["order_storage"] == "posts"
        fakes["sub1"].state.storage = "hpos"  # the shop moved its orders to HPOS
        check = (await s.api.post("/api/stores/sub1/check")).json()
        (storage,) = [c for c in check["checks"] if c["name"] == "order storage"]
        assert storage["ok"] and "HPOS" in storage["detail"]
        assert (await s.api.get("/api/stores/sub1")).json()["order_storage"] == "hpos"


async def test_unknown_order_storage_gives_no_admin_link(database_url: str) -> None:
    fakes = stores()
    fakes["main"].knobs.down = True  # cannot be asked when it is added
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        assert (await s.api.get("/api/stores/main")).json()["order_storage"] is None
        fakes["main"].knobs.down = False
        await s.sync()
        (link,) = (await s.api.get("/api/links")).json()["items"]
        assert link["origin"]["admin_url"] is None and link["target"]["admin_url"] is not None
        assert link["order"]["customer"] == "Ada Lovelace"
        assert order["id"] == link["origin"]["order_id"]


async def test_sync_order_of_an_unchanged_order_says_it_is_in_sync(database_url: str) -> None:
    fakes = stores()
    order = fakes["main"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.sync()
        before = s.exact("main", order["id"], "sub1", sold=SUB1)
        body = (await s.api.post(f"/api/orders/main/{order['id']}/sync")).json()
        kinds = [e["kind"] for e in body["events"]]
        messages = " | ".join(e["message"] for e in body["events"])
        assert "changed" not in kinds and "origin order changed" not in messages, body["events"]
        assert kinds[-1] == "in_sync", kinds
        assert body["events"][-1]["message"].startswith("already in sync: the copy on store sub1")
        assert link_to(body, "sub1")["state"] == "synced"
        after = s.exact("main", order["id"], "sub1", sold=SUB1)
        assert after["date_modified_gmt"] == before["date_modified_gmt"]  # nothing written

        # A real change is still recorded as one.
        fakes["main"].update_order_direct(order["id"], customer_note="Leave at the door")
        body = (await s.api.post(f"/api/orders/main/{order['id']}/sync")).json()
        changed = [e for e in body["events"] if e["kind"] == "changed"]
        assert len(changed) == 1 and "origin order changed" in changed[0]["message"]
        s.exact("main", order["id"], "sub1", sold=SUB1)


async def test_unknown_sku_advice_depends_on_the_direction(database_url: str) -> None:
    fakes = stores()
    fakes["sub1"].add_product("SKU-LOCAL-JAM", "Local jam", "4.00")  # sold on sub1 only
    hoodie = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # sub1 does not sell it
    sticker = fakes["sub1"].place_order([("SKU-LOCAL-JAM", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.sync()
        failed = (await s.api.get("/api/links?state=failed")).json()["items"]
        by_direction = {ln["direction"]: ln for ln in failed}
        down = by_direction["main_to_sub"]
        assert down["origin"]["order_id"] == hoodie["id"] and down["last_error_code"] == "unknown_sku"
        assert "routing" in down["last_error"]
        up = by_direction["sub_to_main"]
        assert up["origin"]["order_id"] == sticker["id"] and up["last_error_code"] == "unknown_sku"
        assert "routing" not in up["last_error"]
        assert "main store 'main'" in up["last_error"] and "store 'sub1'" in up["last_error"]


async def test_the_main_store_reads_as_a_success_after_a_pass_and_a_check(database_url: str) -> None:
    fakes = stores()
    fakes["sub1"].place_order([("SKU-MUG-001", 1)])
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        # Only the sub-store's orders, going up: the main store is read and written as a target.
        await s.sync(direction="sub_to_main", store="sub1")
        main = (await s.api.get("/api/stores/main")).json()
        assert main["last_success_at"] is not None and main["last_error"] is None
        check = (await s.api.post("/api/stores/main/check")).json()
        assert check["ok"], check
        after = (await s.api.get("/api/stores/main")).json()["last_success_at"]
        assert after is not None and after >= main["last_success_at"]
