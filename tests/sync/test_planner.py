"""The planner: the smallest write that makes a replica equal its origin, planned from the replica
as its store returns it. Each case writes the plan to a fake store, reads the replica back, checks
it is an exact copy, and plans again: the second plan must be empty."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.sync.plan.mapping import ORIGIN_ITEM_META, ProductRef, create_payload, map_order, meta_value
from app.sync.plan.planner import ReplicaMismatch, plan_update
from app.testing import DEMO_CATALOG, FakeStore
from app.testing.exact import assert_exact_copy, copy_differences

API = "/wp-json/wc/v3"


class Pair:
    def __init__(self, main: FakeStore, sub: FakeStore, http: httpx.AsyncClient) -> None:
        self.main, self.sub, self.http = main, sub, http

    def catalog(self) -> dict[str, ProductRef]:
        return {sku: ProductRef(pid) for sku, pid in self.sub.state.sku_index.items()}

    def desired(
        self, origin: dict[str, Any], *, only_sold: bool = False, sold: set[str] | None = None
    ) -> Any:
        catalog = self.catalog()
        if sold is not None:
            catalog = {sku: ref for sku, ref in catalog.items() if sku in sold}
        return map_order(
            origin, origin_store="main", target_store="sub1", catalog=catalog, only_sold=only_sold
        )

    async def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{API}/orders", json=payload)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def read(self, order_id: int) -> dict[str, Any]:
        response = await self.http.get(f"{API}/orders/{order_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def apply(self, order_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.put(f"{API}/orders/{order_id}", json=changes)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def converge(self, origin: dict[str, Any], replica_id: int, **kw: Any) -> dict[str, Any]:
        """Plan, write, read back: exact, and nothing left to plan."""
        desired = self.desired(origin, **{k: v for k, v in kw.items() if k in ("only_sold", "sold")})
        replica = await self.read(replica_id)
        changes = plan_update(desired.payload, replica, status=origin["status"])
        if changes:
            await self.apply(replica_id, changes)
        replica = await self.read(replica_id)
        assert plan_update(desired.payload, replica, status=origin["status"]) == {}
        return replica


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    main = FakeStore("main", catalog=DEMO_CATALOG)
    sub = FakeStore("sub1", catalog=DEMO_CATALOG)
    async with sub.client() as http:
        yield Pair(main, sub, http)
    await main.aclose()
    await sub.aclose()


def origin_order(pair: Pair, items: list[tuple[str, int]] | None = None, **meta: str) -> dict[str, Any]:
    order = pair.main.place_order(items or [("SKU-MUG-001", 2), ("SKU-STICKER", 1)], meta=meta or None)
    return order


async def test_a_fresh_copy_plans_nothing(pair: Pair) -> None:
    origin = origin_order(pair, gift="yes")
    replica = await pair.create(pair.desired(origin).payload)
    assert plan_update(pair.desired(origin).payload, replica, status=origin["status"]) == {}
    assert_exact_copy(origin, replica, origin_store="main")


def _edit(name: str) -> Callable[[Pair, int], dict[str, Any]]:
    """Origin edits as an admin makes them in wp-admin."""

    def apply(pair: Pair, order_id: int) -> dict[str, Any]:
        order = pair.main.orders[order_id]
        mug, sticker = order["line_items"][0], order["line_items"][1]
        shipping = order["shipping_lines"][0]
        gift = next((m["id"] for m in order["meta_data"] if m["key"] == "gift"), 0)
        changes: dict[str, Any] = {
            "quantity": {
                "line_items": [{"id": mug["id"], "quantity": 3, "subtotal": "28.50", "total": "28.50"}]
            },
            "line_added": {"line_items": [{"sku": "SKU-HOODIE-L", "quantity": 1}]},
            "line_removed": {"line_items": [{"id": sticker["id"], "quantity": 0}]},
            "line_meta": {
                "line_items": [{"id": mug["id"], "meta_data": [{"key": "Engraving", "value": "Ada"}]}]
            },
            "shipping_changed": {"shipping_lines": [{"id": shipping["id"], "total": "7.50"}]},
            "shipping_removed": {"shipping_lines": [{"id": shipping["id"], "method_id": None}]},
            "shipping_added": {
                "shipping_lines": [
                    {
                        "method_id": "local_pickup",
                        "method_title": "Pickup",
                        "instance_id": "3",
                        "total": "0.00",
                    }
                ]
            },
            "fee_added": {"fee_lines": [{"name": "Gift wrap", "total": "2.50", "tax_status": "none"}]},
            "address": {"billing": {"city": "Paris", "postcode": "75001"}, "shipping": {"city": "Paris"}},
            "note": {"customer_note": "leave at the door"},
            "payment": {"payment_method": "cod", "payment_method_title": "Cash on delivery"},
            "meta_added": {"meta_data": [{"key": "delivery_slot", "value": "am"}]},
            "meta_removed": {"meta_data": [{"id": gift, "key": "gift", "value": None}]},
            "status": {"status": "completed"},
        }[name]
        return pair.main.update_order_direct(order_id, **changes)

    return apply


EDITS = [
    "quantity",
    "line_added",
    "line_removed",
    "line_meta",
    "shipping_changed",
    "shipping_removed",
    "shipping_added",
    "fee_added",
    "address",
    "note",
    "payment",
    "meta_added",
    "meta_removed",
    "status",
]


@pytest.mark.parametrize("edit", EDITS)
async def test_each_origin_edit_is_planned_once_and_leaves_an_exact_copy(pair: Pair, edit: str) -> None:
    origin = origin_order(pair, gift="yes")
    replica = await pair.create(pair.desired(origin).payload)
    origin = _edit(edit)(pair, origin["id"])
    assert plan_update(pair.desired(origin).payload, replica, status=origin["status"]) != {}
    replica = await pair.converge(origin, replica["id"])
    assert_exact_copy(origin, replica, origin_store="main")


async def test_an_adopted_replica_is_updated_in_place_not_doubled(pair: Pair) -> None:
    """Issue 8, defect 1: a copy adopted after a lost reply has no remembered line map. Mug x2 +
    sticker + shipping 5.00 must not become every line twice after the next edit."""
    origin = origin_order(pair)
    adopted = await pair.create(pair.desired(origin).payload)  # made by the attempt whose reply was lost
    origin = _edit("quantity")(pair, origin["id"])
    changes = plan_update(pair.desired(origin).payload, adopted, status=origin["status"])
    assert all("id" in line for line in changes["line_items"])  # updated in place, nothing added
    assert "shipping_lines" not in changes
    replica = await pair.converge(origin, adopted["id"])
    assert len(replica["line_items"]) == 2 and len(replica["shipping_lines"]) == 1
    assert replica["total"] == origin["total"]
    assert_exact_copy(origin, replica, origin_store="main")


async def test_an_update_sent_again_after_a_lost_reply_writes_nothing(pair: Pair) -> None:
    """Issue 8, defect 2: the first update reached the store but its reply was lost. The retry
    reads the replica again, so it plans nothing instead of adding a second shipping line."""
    origin = origin_order(pair)
    replica = await pair.create(pair.desired(origin).payload)
    origin = _edit("shipping_changed")(pair, origin["id"])
    changes = plan_update(pair.desired(origin).payload, replica, status=origin["status"])
    await pair.apply(replica["id"], changes)  # applied; the reply never arrived
    after = await pair.read(replica["id"])
    assert plan_update(pair.desired(origin).payload, after, status=origin["status"]) == {}
    assert len(after["shipping_lines"]) == 1 and after["total"] == origin["total"]


async def test_lines_of_an_older_copy_without_marks_are_paired_and_marked(pair: Pair) -> None:
    """A replica made by an earlier wcsync carries no mark on its shipping line: it is paired by
    method and marked, not removed and added again."""
    origin = origin_order(pair)
    payload = copy.deepcopy(pair.desired(origin).payload)
    for line in payload["shipping_lines"]:
        line["meta_data"] = []
    replica = await pair.create(payload)
    changes = plan_update(pair.desired(origin).payload, replica, status=origin["status"])
    assert changes == {
        "shipping_lines": [
            {
                "id": replica["shipping_lines"][0]["id"],
                "meta_data": [{"key": ORIGIN_ITEM_META, "value": str(origin["shipping_lines"][0]["id"])}],
            }
        ]
    }
    replica = await pair.converge(origin, replica["id"])
    assert_exact_copy(origin, replica, origin_store="main")


async def test_a_doubled_line_is_removed(pair: Pair) -> None:
    origin = origin_order(pair)
    payload = pair.desired(origin).payload
    doubled = {**payload, "line_items": payload["line_items"] + [copy.deepcopy(payload["line_items"][0])]}
    replica = await pair.create(doubled)
    assert copy_differences(origin, replica, origin_store="main")  # the invariant sees the double
    replica = await pair.converge(origin, replica["id"])
    assert_exact_copy(origin, replica, origin_store="main")


async def test_a_partial_copy_keeps_its_lines_and_zero_shipping(pair: Pair) -> None:
    origin = origin_order(pair, [("SKU-MUG-001", 1), ("SKU-HOODIE-L", 1)])
    sold = {"SKU-MUG-001"}
    mapped = pair.desired(origin, only_sold=True, sold=sold)
    assert mapped.left_out_skus == ["SKU-HOODIE-L"]
    replica = await pair.create(mapped.payload)
    assert_exact_copy(origin, replica, origin_store="main", sold=sold)
    origin = pair.main.update_order_direct(
        origin["id"],
        line_items=[
            {"id": origin["line_items"][0]["id"], "quantity": 2, "total": "19.00", "subtotal": "19.00"}
        ],
    )
    replica = await pair.converge(origin, replica["id"], only_sold=True, sold=sold)
    assert replica["shipping_lines"][0]["total"] == "0.00" and replica["total"] == "19.00"
    assert_exact_copy(origin, replica, origin_store="main", sold=sold)


async def test_the_target_keeps_its_own_private_meta(pair: Pair) -> None:
    origin = origin_order(pair)
    replica = await pair.create(pair.desired(origin).payload)
    pair.sub.update_order_direct(replica["id"], meta={"_their_plugin": "kept", "gift": "no"})
    replica = await pair.read(replica["id"])
    changes = plan_update(pair.desired(origin).payload, replica, status=origin["status"])
    # "gift" was never copied (the origin has none): the target's own key stays too.
    assert changes == {}
    assert meta_value(replica, "_their_plugin") == "kept"


async def test_a_key_the_origin_drops_is_removed_from_the_replica(pair: Pair) -> None:
    origin = origin_order(pair, gift="yes")
    replica = await pair.create(pair.desired(origin).payload)
    origin = _edit("meta_removed")(pair, origin["id"])
    replica = await pair.converge(origin, replica["id"])
    assert meta_value(replica, "gift") is None
    assert_exact_copy(origin, replica, origin_store="main")


async def test_the_status_is_left_alone_when_asked(pair: Pair) -> None:
    origin = origin_order(pair)
    replica = await pair.create(pair.desired(origin).payload)
    assert plan_update(pair.desired(origin).payload, {**replica, "status": "completed"}, status=None) == {}
    assert plan_update(
        pair.desired(origin).payload, {**replica, "status": "completed"}, status="processing"
    ) == {"status": "processing"}


def test_an_order_of_another_origin_is_never_written() -> None:
    desired = {"meta_data": [{"key": "_wcsync_origin", "value": "main:1"}]}
    replica = {"id": 9, "meta_data": [{"key": "_wcsync_origin", "value": "main:2"}]}
    with pytest.raises(ReplicaMismatch, match="main:2"):
        plan_update(desired, replica, status=None)


# -- issue 15 item 11: a key repeated in a line's meta (an add-on's two engravings) -----------


def line_meta(line: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(m["key"], m["value"]) for m in line["meta_data"] if not m["key"].startswith("_")]


def engraved(pair: Pair, entries: list[tuple[str, str]]) -> dict[str, Any]:
    """An order whose mug line got its meta from an add-on at checkout, a key possibly twice."""
    origin = origin_order(pair)
    return pair.main.add_line_meta(origin["id"], origin["line_items"][0]["id"], entries)


TWO_ENGRAVINGS = [("Engraving", "Ada"), ("Colour", "Red"), ("Engraving", "Lovelace")]


async def settle(pair: Pair, origin: dict[str, Any], replica_id: int) -> tuple[dict[str, Any], int]:
    """Plan and write until nothing is left to plan: the copy, and how many writes it took."""
    desired = pair.desired(origin).payload
    for writes in range(4):
        replica = await pair.read(replica_id)
        changes = plan_update(desired, replica, status=origin["status"])
        if not changes:
            return replica, writes
        await pair.apply(replica_id, changes)
    raise AssertionError("the plan never settled: it flips a value on every pass")


async def test_a_repeated_line_meta_key_is_copied_entry_by_entry_in_order(pair: Pair) -> None:
    """The create sent both "Engraving" entries, WooCommerce kept the last, the planner the first:
    each pass flipped the value and one engraving was lost. Now the create puts the second under
    a slot key, one update renames it by id, and a fresh copy plans nothing."""
    origin = engraved(pair, TWO_ENGRAVINGS)
    assert line_meta(origin["line_items"][0]) == TWO_ENGRAVINGS
    desired = pair.desired(origin).payload
    body = create_payload(desired)
    assert [m["key"] for m in body["line_items"][0]["meta_data"]][:3] == [
        "Engraving",
        "Colour",
        "_wcsync_slot_2",
    ]
    replica = await pair.create(body)
    changes = plan_update(desired, replica, status=origin["status"])
    slot = next(m for m in replica["line_items"][0]["meta_data"] if m["key"] == "_wcsync_slot_2")
    assert changes == {
        "line_items": [
            {
                "id": replica["line_items"][0]["id"],
                "meta_data": [{"id": slot["id"], "key": "Engraving", "value": "Lovelace"}],
            }
        ]
    }
    replica, writes = await settle(pair, origin, replica["id"])
    assert writes == 1
    assert line_meta(replica["line_items"][0]) == TWO_ENGRAVINGS
    assert_exact_copy(origin, replica, origin_store="main")


async def test_a_copy_that_lost_an_engraving_gets_it_back(pair: Pair) -> None:
    """A copy made by the old create (both entries sent, the store kept the last) is healed."""
    origin = engraved(pair, TWO_ENGRAVINGS)
    replica = await pair.create(pair.desired(origin).payload)
    assert line_meta(replica["line_items"][0]) == [("Engraving", "Lovelace"), ("Colour", "Red")]
    replica, writes = await settle(pair, origin, replica["id"])
    assert writes <= 2
    assert line_meta(replica["line_items"][0]) == TWO_ENGRAVINGS
    assert_exact_copy(origin, replica, origin_store="main")


@pytest.mark.parametrize(
    "edited",
    [
        [("Engraving", "Ada")],  # the second engraving removed
        [("Engraving", "Lovelace"), ("Colour", "Red"), ("Engraving", "Ada")],  # swapped
        [*TWO_ENGRAVINGS, ("Engraving", "Byron")],  # a third
        [("Colour", "Blue"), ("Engraving", "Ada"), ("Engraving", "Ada")],  # reordered, one value twice
    ],
)
async def test_an_edit_of_repeated_line_meta_reaches_the_copy(
    pair: Pair, edited: list[tuple[str, str]]
) -> None:
    origin = engraved(pair, TWO_ENGRAVINGS)
    replica = await pair.create(create_payload(pair.desired(origin).payload))
    replica, _ = await settle(pair, origin, replica["id"])
    line = origin["line_items"][0]
    # The shop rewrites the line's meta in wp-admin (a plugin's own screen): every entry anew.
    state = pair.main.state
    state.orders[origin["id"]]["line_items"][0]["meta_data"] = [
        m for m in state.orders[origin["id"]]["line_items"][0]["meta_data"] if m["key"].startswith("_")
    ]
    origin = pair.main.add_line_meta(origin["id"], line["id"], edited)
    replica, writes = await settle(pair, origin, replica["id"])
    assert 1 <= writes <= 2
    assert line_meta(replica["line_items"][0]) == edited
    assert_exact_copy(origin, replica, origin_store="main")


def test_a_create_without_repeated_keys_is_sent_as_it_is() -> None:
    payload = {"line_items": [{"meta_data": [{"key": "Engraving", "value": "Ada"}]}], "meta_data": []}
    assert create_payload(payload) is payload
