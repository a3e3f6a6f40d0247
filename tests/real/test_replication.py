"""Replication between real WooCommerce stores: main (7.8.2, posts), sub1 (7.8.2, HPOS) and
sub2 (10.6.2, HPOS), with wcsync on loopback. Each test reads the orders back from the stores
and compares their content (tests/real/checks.py)."""

from __future__ import annotations

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync

pytestmark = pytest.mark.real


async def test_main_order_reaches_both_woocommerce_versions(wcsync: Wcsync) -> None:
    await wcsync.add_all()
    main = wcsync.stores["main"]
    order = await main.place_order(
        [("SKU-TSHIRT-RED", 2), ("SKU-MUG-001", 1)], fees=[("Gift wrap", "2.50")], note="Ring twice"
    )
    run = await wcsync.sync()
    assert run["status"] == "succeeded", run
    origin = await main.order(order["id"])
    for name in ("sub1", "sub2"):
        (replica,) = await wcsync.stores[name].replicas(f"main:{order['id']}", wcsync.started)
        assert_faithful_copy(origin, replica, origin_store="main")
