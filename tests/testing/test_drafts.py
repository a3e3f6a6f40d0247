"""Failed creates: what WooCommerce leaves behind, as recorded on real 7.8.2 and 10.6.2 stores.

A create that fails after the order was first saved (an unknown coupon is the failure the fake
can make) leaves the half-made order. 7.8 leaves it as it was, pending, and says nothing
(``recorded/real-7.8-*/d01-d05``, 43a/43b); 10.6 turns it into a ``checkout-draft``, names it
in ``data.new_draft_order_id``, lists it by default and with ``status=any``, and fires
``order.created`` for it (``real-10.6-hpos/d01-d06``).
"""

from __future__ import annotations

import json

import pytest

from app.testing import FakeStore, Knobs
from app.testing.server import serve_in_background
from tests.testing.conftest import API, make_store
from tests.testing.replay import FOLDERS, assert_replays, recorded, recorded_cases, replayed
from tests.testing.test_webhooks import Receiver, add_webhook


@pytest.mark.parametrize(("folder", "case"), [c for c in recorded_cases("d") if not c[1].startswith("d06")])
def test_replays_the_recording(folder: str, case: str) -> None:
    real, fake = recorded(folder, case), replayed(folder, "drafts")[case]
    if case in ("d03a-list-default", "d03b-list-status-any"):
        # The real store's default listing is full of the other recordings' orders: what
        # matters is that the left order is in it, with its status.
        def verdict(record: dict) -> str:
            return record["finding"].split(";")[1].strip()

        assert fake["response"]["status"] == real["response"]["status"] == 200
        assert verdict(fake) == verdict(real)
        status = "checkout-draft" if FOLDERS[folder][0] == "10.6" else "pending"
        assert fake["response"]["body"][0]["status"] == real["response"]["body"][0]["status"] == status
        return
    assert_replays(real, fake)


CREATE = {
    "status": "processing",
    "line_items": [{"sku": "SKU-MUG-001", "quantity": 1}],
    "meta_data": [{"key": "_wcsync_origin", "value": "main:42"}],
    "coupon_lines": [{"code": "no-such-coupon"}],
}


@pytest.mark.parametrize("folder", list(FOLDERS))
async def test_order_created_fires_for_the_left_order(folder: str) -> None:
    """d06: one ``order.created`` delivery per failed create, the payload as it is at delivery
    (a checkout-draft on 10.6, pending on 7.8), the origin meta in it."""
    line, storage = FOLDERS[folder]
    real = recorded(folder, "d06-webhook-order-created")
    store = make_store(storage=storage, knobs=Knobs(wc_version=line))
    endpoint = Receiver()
    async with serve_in_background(endpoint.app()) as url, store.client() as client:
        await add_webhook(client, "order.created", f"{url}/hook")
        failed = await client.post(f"{API}/orders", json=CREATE)
        batch = await client.post(f"{API}/orders/batch", json={"create": [CREATE]})
        await store.drain_webhooks()
    assert failed.status_code == 400 and "error" in batch.json()["create"][0]
    deliveries = [json.loads(body) for _, body in endpoint.deliveries()]
    ours = [("order.created", d["status"], [m["value"] for m in d["meta_data"]]) for d in deliveries]
    theirs = [
        (d["topic"], d["status_in_payload"], [m.split(":")[0] for m in d["origin_meta"]])
        for d in real["deliveries"]
    ]
    assert [(t, s) for t, s, _ in ours] == [(t, s) for t, s, _ in theirs]
    assert all(meta == ["main:42"] for _, _, meta in ours)
    await store.aclose()


class TestTenSix:
    async def test_the_draft_is_named_listed_and_reconcilable_by_its_origin(self) -> None:
        store = make_store(knobs=Knobs(wc_version="10.6"))
        async with store.client() as client:
            failed = await client.post(f"{API}/orders", json=CREATE)
            draft_id = failed.json()["data"]["new_draft_order_id"]
            default = await client.get(f"{API}/orders", params={"_fields": "id,status"})
            drafts = await client.get(f"{API}/orders", params={"status": "checkout-draft"})
            notes = await client.get(f"{API}/orders/{draft_id}/notes")
        assert failed.status_code == 400
        assert (
            failed.json()["message"]
            == "Coupon &quot;no-such-coupon&quot; cannot be applied because it does not exist."
        )
        assert {"id": draft_id, "status": "checkout-draft"} in default.json()
        assert [o["id"] for o in drafts.json()] == [draft_id]
        draft = store.orders[draft_id]
        assert draft["meta_data"][0]["value"] == "main:42"
        assert (draft["needs_payment"], draft["is_editable"], draft["date_paid"]) == (True, False, None)
        assert [n["note"] for n in notes.json()] == ["Order status changed from Pending payment to Draft."]
        await store.aclose()

    async def test_7_8_leaves_a_pending_order_and_no_id(self) -> None:
        store = make_store()
        async with store.client() as client:
            failed = await client.post(f"{API}/orders", json=CREATE)
        assert failed.json()["data"] == {"status": 400}
        assert [o["status"] for o in store.orders.values()] == ["pending"]
        await store.aclose()

    async def test_a_draft_in_a_batch_carries_its_id_too(
        self,
    ) -> None:
        store = make_store(knobs=Knobs(wc_version="10.6"))
        async with store.client() as client:
            response = await client.post(f"{API}/orders/batch", json={"create": [CREATE, {"line_items": []}]})
        first, second = response.json()["create"]
        assert first["id"] == 0 and first["error"]["data"]["new_draft_order_id"] in store.orders
        assert second["status"] == "pending"
        await store.aclose()


async def test_coupon_error_on_update_saves_all_but_the_status() -> None:
    """real-*/l06d on both versions: the lines, address and meta are saved, the totals
    recalculated, the status left alone, and the answer is still the coupon's 400."""
    store: FakeStore = make_store()
    order = store.place_order([("SKU-MUG-001", 1)], status="pending")
    async with store.client() as client:
        response = await client.put(
            f"{API}/orders/{order['id']}",
            json={
                "line_items": [{"id": order["line_items"][0]["id"], "quantity": 2, "total": "19.00"}],
                "billing": {"city": "Paris"},
                "status": "on-hold",
                "coupon_lines": [{"code": "nope"}],
            },
        )
    after = store.orders[order["id"]]
    assert response.status_code == 400 and response.json()["code"] == "woocommerce_rest_invalid_coupon"
    assert (after["status"], after["billing"]["city"], after["total"]) == ("pending", "Paris", "24.00")
    await store.aclose()
