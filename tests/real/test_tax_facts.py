"""How WooCommerce taxes an order created over REST from the amounts it is sent, checked on the
real stores (7.8 posts and 10.6 HPOS, `make test-real`) and on the fake store behaving as each
version (`make test`): the real store is the authority, and the fake must compute the same taxes
for what wcsync sends (docs/woocommerce-behaviour.md, "Taxes: what a REST create recomputes").

One order, sent as wcsync sends a copy (explicit line amounts, a taxable fee, taxable shipping):
two lines of 7.92 and one of 11.125 (a line priced 13.35 with 20 % tax included), a fee of 1.235
and shipping of 4.99, at one 20 % rate. Taxes are 1.584, 1.584, 2.225, 0.247 and 0.998 before
rounding; what the order shows depends on the two options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.testing import DEMO_CATALOG, FakeStore, Knobs
from tests.real.harness import STORES, StoreInfo
from tests.real.shop import SETTINGS, TaxScenario
from tests.real.stores import ADA, RealStore

VERSION_OF = {"main": "7.8", "sub2": "10.6"}

# scenario -> (line total_tax each, fee total_tax, shipping total_tax, cart_tax, total_tax, total),
# as the order shows them (dp 2), then cart_tax as kept (dp 6).
EXPECTED: dict[TaxScenario, tuple[tuple[str, ...], str, str, str, str, str, str]] = {
    # Each item's tax rounded to the cent (half up), then summed: 1.58 + 1.58 + 2.23 + 0.25.
    TaxScenario(prices_include_tax=False, round_at_subtotal=False): (
        ("1.58", "1.58", "2.23"),
        "0.25",
        "1.00",
        "5.64",
        "6.64",
        "39.84",
        "5.640000",
    ),
    # The same, half down when prices include tax: 2.225 is 2.22.
    TaxScenario(prices_include_tax=True, round_at_subtotal=False): (
        ("1.58", "1.58", "2.22"),
        "0.25",
        "1.00",
        "5.63",
        "6.63",
        "39.83",
        "5.630000",
    ),
    # Summed unrounded (cart tax 5.64 exactly, kept to six places), the line amounts unrounded
    # too (26.965): only total_tax and total are rounded.
    TaxScenario(prices_include_tax=True, round_at_subtotal=True): (
        ("1.58", "1.58", "2.23"),
        "0.25",
        "1.00",
        "5.64",
        "6.64",
        "39.83",
        "5.640000",
    ),
}


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.real)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def stores(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[dict[str, RealStore]]:
    """main (7.8) and sub2 (10.6): the harness's, or fakes of the same versions."""
    if backend == "real":
        infos = [i for i in request.getfixturevalue("real_stores") if i.name in VERSION_OF]
        clients = {
            i.name: httpx.AsyncClient(
                base_url=i.base_url, auth=(i.consumer_key, i.consumer_secret), timeout=120, verify=i.verify()
            )
            for i in infos
        }
        try:
            yield {i.name: RealStore(i, clients[i.name]) for i in infos}
        finally:
            for http in clients.values():
                await http.aclose()
        return
    opened: dict[str, RealStore] = {}
    fakes: list[FakeStore] = []
    try:
        for name, line, storage in STORES:
            if name not in VERSION_OF:
                continue
            fake = FakeStore(name, storage=storage, catalog=DEMO_CATALOG, knobs=Knobs(wc_version=line))  # type: ignore[arg-type]
            fakes.append(fake)
            info = StoreInfo(
                name=name,
                base_url=fake.base_url,
                consumer_key=fake.consumer_key,
                consumer_secret=fake.consumer_secret,
                hpos=storage == "hpos",
                woocommerce=line,
                wordpress="",
                products={str(p["sku"]): fake.product_id(str(p["sku"])) for p in DEMO_CATALOG},
                site=Path("/nonexistent"),
            )
            http = httpx.AsyncClient(
                transport=fake.transport(),
                base_url=fake.base_url,
                auth=(fake.consumer_key, fake.consumer_secret),
            )
            opened[name] = RealStore(info, http)
        yield opened
    finally:
        for store in opened.values():
            await store.http.aclose()
        for fake in fakes:
            await fake.aclose()


async def set_options(store: RealStore, values: dict[str, str]) -> None:
    for group, name in SETTINGS:
        await store.request("PUT", f"/settings/{group}/{name}", json={"value": values[name]})


def figures(order: dict[str, Any]) -> tuple[tuple[str, ...], str, str, str, str, str]:
    return (
        tuple(i["total_tax"] for i in order["line_items"]),
        order["fee_lines"][0]["total_tax"],
        order["shipping_lines"][0]["total_tax"],
        order["cart_tax"],
        order["total_tax"],
        order["total"],
    )


@pytest.mark.parametrize("name", list(VERSION_OF))
async def test_taxes_follow_the_amounts_sent_and_the_two_options(
    stores: dict[str, RealStore], name: str
) -> None:
    store = stores[name]
    before = {
        option: str((await store.request("GET", f"/settings/{group}/{option}"))["value"])
        for group, option in SETTINGS
    }
    if await store.request("GET", "/taxes"):
        pytest.fail(f"{name} already has tax rates: these figures need exactly one")
    rate = await store.request(
        "POST", "/taxes", json={"rate": "20.0000", "name": "VAT", "shipping": True, "priority": 1}
    )
    mug = store.product_id("SKU-MUG-001")
    body = {
        "billing": ADA,
        "line_items": [
            {"product_id": mug, "quantity": 1, "subtotal": amount, "total": amount}
            for amount in ("7.92", "7.92", "11.125")
        ],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.99"}],
        "fee_lines": [{"name": "Card surcharge", "total": "1.235", "tax_status": "taxable"}],
    }
    found: dict[str, Any] = {}
    try:
        for scenario in EXPECTED:
            await set_options(store, scenario.values)
            order = await store.request("POST", "/orders", json=body)
            exact = await store.request("GET", f"/orders/{order['id']}", params={"dp": "6"})
            found[str(scenario)] = (*figures(order), exact["cart_tax"])
            # Whatever the options, the amounts sent are kept to every place.
            assert [i["total"] for i in exact["line_items"]] == ["7.920000", "7.920000", "11.125000"]
            assert [i["total"] for i in order["line_items"]] == ["7.92", "7.92", "11.13"]
            assert (exact["fee_lines"][0]["total"], order["fee_lines"][0]["total"]) == ("1.235000", "1.24")
            assert order["prices_include_tax"] is scenario.prices_include_tax
    finally:
        await store.request("DELETE", f"/taxes/{rate['id']}", params={"force": "true"})
        await set_options(store, before)
    assert found == {str(s): e for s, e in EXPECTED.items()}
