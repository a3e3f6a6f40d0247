"""Taxes on real stores (issue 15, item 6): with the same tax settings on every store, a copy's
lines, their taxes, the shipping and fee taxes, `total_tax` and `total` equal the origin's to
the cent, both ways (main on 7.8 posts, sub2 on 10.6 HPOS), for prices entered with and without
tax and for both "round tax at subtotal level" settings.

WooCommerce keeps a line's amounts to six places (13.35 with 20 % included is 11.125 + 2.225)
and computes taxes from them on create; a copy sent the cents (11.13) is taxed 2.23 where its
origin was taxed 2.22 (docs/woocommerce-behaviour.md, "Taxes: what a REST create recomputes")."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok
from tests.real.harness import StoreInfo
from tests.real.shop import TaxedShop, TaxScenario, place_taxed_order, tax_differences, taxed_shop
from tests.real.stores import RealStore

pytestmark = pytest.mark.real

# Prices entered with tax is where a line's amounts have half-cents; both rounding settings
# there, and the usual shop (prices without tax, taxes rounded per line), where the coupon makes
# the half-cents.
SCENARIOS = [
    TaxScenario(prices_include_tax=True, round_at_subtotal=False),
    TaxScenario(prices_include_tax=True, round_at_subtotal=True),
    TaxScenario(prices_include_tax=False, round_at_subtotal=False),
]


@pytest.fixture(scope="module")
def shop(real_stores: list[StoreInfo]) -> Iterator[TaxedShop]:
    with taxed_shop(real_stores) as opened:
        yield opened


@pytest.fixture(params=SCENARIOS, ids=str)
def taxed(request: pytest.FixtureRequest, shop: TaxedShop) -> TaxScenario:
    scenario: TaxScenario = request.param
    shop.use(scenario)
    return scenario


async def exact(store: RealStore, order_id: int) -> dict[str, Any]:
    """The order with its amounts to the six places WooCommerce keeps."""
    order: dict[str, Any] = await store.request("GET", f"/orders/{order_id}", params={"dp": "6"})
    return order


async def test_taxed_orders_are_copied_to_the_cent_both_ways(wcsync: Wcsync, taxed: TaxScenario) -> None:
    await wcsync.add_all()
    main, sub2 = wcsync.stores["main"], wcsync.stores["sub2"]
    on_main, on_sub2 = await asyncio.gather(place_taxed_order(main), place_taxed_order(sub2))
    placed = {"main": on_main, "sub2": on_sub2}
    # The fixture's figures are what the test is about: half-cents on lines, shipping and fees.
    assert placed["main"]["prices_include_tax"] is taxed.prices_include_tax
    assert all(o["total_tax"] != "0.00" and o["coupon_lines"] for o in placed.values())
    assert all(
        line["total_tax"] != "0.00" for line in placed["main"]["shipping_lines"] + placed["main"]["fee_lines"]
    )

    run = await wcsync.sync()
    assert_run_ok(run, *placed.values())
    assert run["counts"]["created"] == 3, run

    copies = [("main", "sub1"), ("main", "sub2"), ("sub2", "main")]
    problems: dict[str, list[str]] = {}
    for origin_store, target in copies:
        origin_id = placed[origin_store]["id"]
        (copy,) = await wcsync.stores[target].replicas(f"{origin_store}:{origin_id}", wcsync.started)
        origin = await wcsync.stores[origin_store].order(origin_id)
        # As the shop shows them (to the cent), and as WooCommerce keeps them (six places).
        assert_faithful_copy(origin, copy, origin_store=origin_store)
        differences = tax_differences(
            await exact(wcsync.stores[origin_store], origin_id),
            await exact(wcsync.stores[target], copy["id"]),
        )
        if differences:
            problems[f"{origin_store} -> {target}"] = differences
    assert problems == {}

    # A second pass finds every copy equal: nothing is written.
    again = await wcsync.sync()
    assert_run_ok(again, *placed.values())
    assert (again["counts"]["created"], again["counts"]["updated"]) == (0, 0), again

    if taxed != SCENARIOS[0]:
        return
    # A copy made from the cents (as wcsync made them before it read six places): a Sync Order
    # plans the line's six places, and the store recomputes the copy's taxes from them.
    (stale,) = await sub2.replicas(f"main:{placed['main']['id']}", wcsync.started)
    first = stale["line_items"][0]
    await sub2.update(
        stale["id"], line_items=[{"id": first["id"], "subtotal": first["subtotal"], "total": first["total"]}]
    )
    assert tax_differences(await exact(main, placed["main"]["id"]), await exact(sub2, stale["id"])) != []
    await wcsync.sync_order("main", placed["main"]["id"])
    assert tax_differences(await exact(main, placed["main"]["id"]), await exact(sub2, stale["id"])) == []
