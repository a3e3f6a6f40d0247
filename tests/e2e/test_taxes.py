"""Taxed orders copied between fake stores that compute taxes as the real ones do
(tests/real/test_tax_facts.py checks the fake against them): with the same tax settings on both
stores, the copy's taxes and total equal the origin's to the cent (issue 15, item 6; the real
stores: tests/real/test_taxes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from app.testing.exact import assert_exact_copy
from tests.e2e.support import make_fake, stack


@pytest.mark.parametrize("prices_include_tax", [True, False])
@pytest.mark.parametrize("round_at_subtotal", [False, True])
async def test_a_taxed_order_is_copied_to_the_cent(
    database_url: str, prices_include_tax: bool, round_at_subtotal: bool
) -> None:
    """13.35 with 20 % included is 11.125 + 2.225 (2.22, half down): a copy sent 11.13 would be
    taxed 2.23. Quantities 1, 3 and 5 keep the half-cents; prices without tax put them in the tax
    (2.67 x 3 = 8.01, and 0.5417 on the sticker)."""
    taxes: dict[str, Any] = {
        "tax_rate_percent": 20.0,
        "prices_include_tax": prices_include_tax,
        "tax_round_at_subtotal": round_at_subtotal,
    }
    fakes = {"main": make_fake("main", **taxes), "sub1": make_fake("sub1", **taxes)}
    for fake in fakes.values():
        fake.add_product("SKU-TAX-1335", "Taxed", "13.35")
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        order = fakes["main"].place_order(
            [("SKU-TAX-1335", 1), ("SKU-TAX-1335", 3), ("SKU-STICKER", 1), ("SKU-TAX-1335", 5)],
            shipping_total="4.99",
        )
        assert order["total_tax"] != "0.00"
        await s.sync()
        (copy,) = s.replicas("sub1", f"main:{order['id']}")
        assert_exact_copy(order, copy, origin_store="main")
        assert (copy["total_tax"], copy["total"]) == (order["total_tax"], order["total"])
