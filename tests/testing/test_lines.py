"""Removing and updating order lines, as recorded on real 7.8.2 and 10.6.2 stores.

The recorder's ``lines`` cases (tests/woocommerce/record.py) run against a fake store of the
same version and storage and each answer must say what the real store's did
(``recorded/real-*/l*``): removals by quantity 0 or a null name/method, ids an order no longer
has (ignored on 7.8, a 400 on 10.6), a removal without an id, partial saves before an error,
and 10.6's stock moves on processing orders.
"""

from __future__ import annotations

import pytest

from app.testing import FakeStore, Knobs
from tests.testing.conftest import API, make_store
from tests.testing.replay import assert_replays, recorded, recorded_cases, replayed


@pytest.mark.parametrize(("folder", "case"), recorded_cases("l"))
def test_replays_the_recording(folder: str, case: str) -> None:
    assert_replays(recorded(folder, case), replayed(folder, "lines")[case])


async def order_with_lines(store: FakeStore) -> dict:
    async with store.client() as client:
        response = await client.post(
            f"{API}/orders",
            json={
                "line_items": [{"sku": "SKU-MUG-001", "quantity": 2}],
                "shipping_lines": [{"method_id": "flat_rate", "total": "5.00"}],
                "fee_lines": [{"name": "Gift wrap", "total": "2.50"}],
            },
        )
    assert response.status_code == 201
    return dict(response.json())


class TestResentRemoval:
    """Issue 7 and 8: an update that removes a shipping line by id and adds it again, resent
    after a lost reply. 7.8 ignores the gone id and adds the line twice; 10.6 refuses."""

    @pytest.mark.parametrize(("version", "status", "shipping_lines"), [("7.8", 200, 2), ("10.6", 400, 1)])
    async def test_resend(self, version: str, status: int, shipping_lines: int) -> None:
        store = make_store(knobs=Knobs(wc_version=version))
        order = await order_with_lines(store)
        old = order["shipping_lines"][0]["id"]
        body = {
            "shipping_lines": [{"id": old, "method_id": None}, {"method_id": "flat_rate", "total": "5.00"}]
        }
        async with store.client() as client:
            first = await client.put(f"{API}/orders/{order['id']}", json=body)
            again = await client.put(f"{API}/orders/{order['id']}", json=body)
        assert first.status_code == 200 and len(first.json()["shipping_lines"]) == 1
        assert again.status_code == status
        assert len(store.orders[order["id"]]["shipping_lines"]) == shipping_lines
        await store.aclose()

    async def test_knob_changes_while_serving(self) -> None:
        store = make_store()
        order = await order_with_lines(store)
        gone = {"fee_lines": [{"id": 999_999, "name": None}]}
        async with store.client() as client:
            assert (await client.put(f"{API}/orders/{order['id']}", json=gone)).status_code == 200
            store.knobs.update({"wc_version": "10.6"})
            refused = await client.put(f"{API}/orders/{order['id']}", json=gone)
            status = await client.get(f"{API}/system_status")
        assert refused.status_code == 400 and refused.json()["code"] == "woocommerce_rest_invalid_item_id"
        assert status.json()["environment"]["version"] == "10.6.2"
        await store.aclose()

    def test_unknown_version_is_refused(self) -> None:
        with pytest.raises(ValueError):
            Knobs(wc_version="9.9")
        with pytest.raises(TypeError):
            Knobs().update({"wc_version": "8.0"})


class TestBatch:
    async def test_batch_is_not_sanitised_a_string_zero_is_no_removal(self) -> None:
        store = make_store()
        order = await order_with_lines(store)
        line = order["line_items"][0]["id"]
        async with store.client() as client:
            response = await client.post(
                f"{API}/orders/batch",
                json={"update": [{"id": order["id"], "line_items": [{"id": line, "quantity": "0"}]}]},
            )
        # Only PUT /orders/{id} sanitises "0" to 0 (real-*/l04d); a batch item sets it as is.
        assert response.status_code == 200
        assert [i["quantity"] for i in store.orders[order["id"]]["line_items"]] == [0]
        await store.aclose()

    async def test_a_fatal_error_ends_the_whole_batch_on_10_6(self) -> None:
        store = make_store(knobs=Knobs(wc_version="10.6"))
        order = await order_with_lines(store)
        async with store.client() as client:
            response = await client.post(
                f"{API}/orders/batch",
                json={"update": [{"id": order["id"], "line_items": [{"sku": "SKU-MUG-001", "quantity": 0}]}]},
            )
        assert response.status_code == 500 and response.json()["code"] == "internal_server_error"
        await store.aclose()
