"""Where each real store keeps its orders, as wcsync learns it (system_status, on add and on the
store check), and the admin screen an order then links to."""

from __future__ import annotations

import pytest

from tests.real.conftest import Wcsync

pytestmark = pytest.mark.real


async def test_each_store_storage_is_learned_and_orders_link_to_their_screen(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    for name, store in wcsync.stores.items():
        listed = (await wcsync.api.get(f"/api/stores/{name}")).json()
        assert listed["order_storage"] == store.info.storage, (name, listed)
        check = (await wcsync.api.post(f"/api/stores/{name}/check")).json()
        (storage,) = [c for c in check["checks"] if c["name"] == "order storage"]
        assert storage["ok"], storage
    main = wcsync.stores["main"]
    order = await main.place_order([("SKU-MUG-001", 1)])
    await wcsync.sync()
    view = await wcsync.sync_order("main", order["id"])
    base = main.info.base_url.rstrip("/")
    expected = (
        f"{base}/wp-admin/admin.php?page=wc-orders&action=edit&id={order['id']}"
        if main.info.hpos
        else f"{base}/wp-admin/post.php?post={order['id']}&action=edit"
    )
    assert view["admin_url"] == expected
    assert view["order"]["total"] == order["total"]
