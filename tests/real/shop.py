"""The realistic shop's taxes on the `make test-real` stores: taxes on, a 20 % standard rate and a
5 % reduced rate (every country, shipping taxed), prices entered with or without tax, either
rounding setting, three products whose prices give half-cent taxes, and a percent coupon.

The stores are shared by every real test, and the others expect taxes off: `taxed_shop` records
each setting it changes and puts it back, and deletes the rates it made, whatever happens in
between (a module-scoped fixture: the rates are made once, the options set per scenario). The
products and the coupon stay (made once, found again by SKU or code): with taxes off they
change nothing, and the same SKUs are on every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from tests.real.harness import StoreInfo
from tests.real.stores import ADA, ADA_SHIPPING, API, RealStore

# SKU -> (price, tax class). 13.35 with 20 % included is 11.125 + 2.225; 2.99 is 2.491667 +
# 0.498333; 7.45 with 5 % is 7.095238 + 0.354762: a copy sent the cents loses the half-cents.
TAX_PRODUCTS: dict[str, tuple[str, str]] = {
    "SKU-TAX-1335": ("13.35", ""),
    "SKU-TAX-0299": ("2.99", ""),
    "SKU-TAX-R0745": ("7.45", "reduced-rate"),
}
COUPON = "wcsync-tax10"  # 10 % off the lines
RATES = (
    {"rate": "20.0000", "name": "VAT", "shipping": True, "priority": 1, "class": "standard"},
    {"rate": "5.0000", "name": "Reduced VAT", "shipping": True, "priority": 1, "class": "reduced-rate"},
)
ORDER_AMOUNTS = (
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total_tax",
    "total",
)
# (group, option) of each setting a scenario sets.
SETTINGS = (
    ("general", "woocommerce_calc_taxes"),
    ("tax", "woocommerce_prices_include_tax"),
    ("tax", "woocommerce_tax_round_at_subtotal"),
)


@dataclass(frozen=True)
class TaxScenario:
    prices_include_tax: bool
    round_at_subtotal: bool

    @property
    def values(self) -> dict[str, str]:
        def yes(flag: bool) -> str:
            return "yes" if flag else "no"

        return {
            "woocommerce_calc_taxes": "yes",
            "woocommerce_prices_include_tax": yes(self.prices_include_tax),
            "woocommerce_tax_round_at_subtotal": yes(self.round_at_subtotal),
        }

    def __str__(self) -> str:
        prices = "incl" if self.prices_include_tax else "excl"
        rounding = "subtotal" if self.round_at_subtotal else "line"
        return f"prices-{prices}-round-{rounding}"


class TaxedShop:
    """The stores' tax rates, products and coupon, made once for a module of tests (sync: it
    outlives any one test's event loop), with `use(scenario)` to set the three options on every
    store. `close()` deletes the rates and puts every option back as it was found."""

    def __init__(self, infos: Sequence[StoreInfo]) -> None:
        self.http = {
            info.name: httpx.Client(
                base_url=info.base_url + API,
                auth=(info.consumer_key, info.consumer_secret),
                timeout=120,
                verify=info.verify(),
            )
            for info in infos
        }
        self.found: dict[str, dict[str, str]] = {}
        self.rates: dict[str, list[int]] = {}

    def _call(self, store: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http[store].request(method, path, **kwargs)
        assert response.status_code < 300, (
            f"{store}: {method} {path} -> {response.status_code} {response.text}"
        )
        return response.json()

    def _each_store(self, work: Callable[[str], None]) -> None:
        # The stores are separate sites: set up side by side.
        with ThreadPoolExecutor(max_workers=len(self.http)) as pool:
            for done in [pool.submit(work, store) for store in self.http]:
                done.result()

    def open(self) -> None:
        self._each_store(self._open_store)

    def _open_store(self, store: str) -> None:
        self.found[store] = {
            name: str(self._call(store, "GET", f"/settings/{group}/{name}")["value"])
            for group, name in SETTINGS
        }
        existing = self._call(store, "GET", "/taxes", params={"per_page": "100"})
        if existing:
            # A rate left by someone else would make this shop's taxes something else.
            raise AssertionError(f"{store} already has tax rates: {existing}")
        self.rates[store] = []
        for rate in RATES:
            self.rates[store].append(int(self._call(store, "POST", "/taxes", json=rate)["id"]))
        for sku, (price, tax_class) in TAX_PRODUCTS.items():
            if not self._call(store, "GET", "/products", params={"sku": sku}):
                body = {
                    "name": f"Taxed {sku}",
                    "sku": sku,
                    "regular_price": price,
                    "tax_class": tax_class,
                }
                self._call(store, "POST", "/products", json=body)
        if not self._call(store, "GET", "/coupons", params={"code": COUPON}):
            coupon = {"code": COUPON, "discount_type": "percent", "amount": "10"}
            self._call(store, "POST", "/coupons", json=coupon)

    def use(self, scenario: TaxScenario) -> None:
        def set_options(store: str) -> None:
            for group, name in SETTINGS:
                value = scenario.values[name]
                self._call(store, "PUT", f"/settings/{group}/{name}", json={"value": value})

        self._each_store(set_options)

    def close(self) -> None:
        def put_back(store: str) -> None:
            for rate_id in self.rates.get(store, []):
                self._call(store, "DELETE", f"/taxes/{rate_id}", params={"force": "true"})
            for group, name in SETTINGS:
                if name in self.found.get(store, {}):
                    value = self.found[store][name]
                    put = self._call(store, "PUT", f"/settings/{group}/{name}", json={"value": value})
                    assert put["value"] == value, f"{store}: {name} is {put['value']!r}, not {value!r}"
            assert self._call(store, "GET", "/taxes") == [] or not self.rates.get(store), store

        try:
            self._each_store(put_back)
        finally:
            for http in self.http.values():
                http.close()


@contextmanager
def taxed_shop(infos: Sequence[StoreInfo]) -> Iterator[TaxedShop]:
    shop = TaxedShop(infos)
    try:
        shop.open()
        yield shop
    finally:
        shop.close()


async def tax_product_ids(store: RealStore) -> dict[str, int]:
    ids: dict[str, int] = {}
    for sku in TAX_PRODUCTS:
        (product,) = await store.request("GET", "/products", params={"sku": sku})
        ids[sku] = int(product["id"])
    return ids


# A checkout's worth of lines: the quantities make every product's odd multiples (half-cents).
TAXED_LINES: tuple[tuple[str, int], ...] = tuple(
    (sku, quantity) for quantity in (1, 3, 5) for sku in TAX_PRODUCTS
) + (("SKU-MUG-001", 1), ("SKU-STICKER", 3))


async def place_taxed_order(store: RealStore, *, coupon: bool = True) -> dict[str, Any]:
    """A many-line order as a checkout leaves it: lines by product (priced by the store), a
    percent coupon, taxable flat-rate shipping, a taxable fee with half a cent and a fee in the
    reduced class."""
    ids = await tax_product_ids(store)
    body: dict[str, Any] = {
        "status": "processing",
        "payment_method": "bacs",
        "payment_method_title": "Direct bank transfer",
        "billing": ADA,
        "shipping": ADA_SHIPPING,
        "line_items": [
            {"product_id": ids.get(sku) or store.product_id(sku), "quantity": quantity}
            for sku, quantity in TAXED_LINES
        ],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.99"}],
        "fee_lines": [
            {"name": "Card surcharge", "total": "1.235", "tax_status": "taxable"},
            {"name": "Gift wrap", "total": "2.45", "tax_status": "taxable", "tax_class": "reduced-rate"},
        ],
    }
    if coupon:
        body["coupon_lines"] = [{"code": COUPON}]
    order: dict[str, Any] = await store.request("POST", "/orders", json=body)
    return order


def _amount(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def _taxes(line: Mapping[str, Any]) -> list[tuple[Decimal, Decimal]]:
    # Rate ids are each store's own: the amounts are compared, not the ids.
    return sorted((_amount(t.get("total")), _amount(t.get("subtotal"))) for t in line.get("taxes") or [])


def tax_differences(origin: Mapping[str, Any], copy: Mapping[str, Any]) -> list[str]:
    """Every amount of the two orders that differs, both read with `dp=6` (WooCommerce keeps
    line amounts and item taxes to six places): line by line in order (the same SKUs in the same
    order), shipping and fee lines by position, and the order's totals."""
    problems: list[str] = []
    for section, keys in (
        ("line_items", ("sku", "quantity", "subtotal", "subtotal_tax", "total", "total_tax")),
        ("shipping_lines", ("method_id", "total", "total_tax")),
        ("fee_lines", ("name", "total", "total_tax")),
    ):
        want, have = list(origin.get(section) or []), list(copy.get(section) or [])
        if len(want) != len(have):
            problems.append(f"{section}: origin has {len(want)}, copy {len(have)}")
            continue
        for index, (a, b) in enumerate(zip(want, have, strict=True)):
            for key in keys:
                same = (
                    a.get(key) == b.get(key)
                    if key in ("sku", "quantity", "method_id", "name")
                    else _amount(a.get(key)) == _amount(b.get(key))
                )
                if not same:
                    problems.append(f"{section}[{index}].{key}: origin {a.get(key)}, copy {b.get(key)}")
            # 7.8 shows an item's taxes as the stored float whatever `dp` says; 10.6 formats
            # them with `dp`: six places are compared exactly, as stored.
            if _taxes(a) != _taxes(b):
                problems.append(f"{section}[{index}].taxes: origin {_taxes(a)}, copy {_taxes(b)}")
    for key in (
        "discount_total",
        "discount_tax",
        "shipping_total",
        "shipping_tax",
        "cart_tax",
        "total_tax",
        "total",
    ):
        if _amount(origin.get(key)) != _amount(copy.get(key)):
            problems.append(f"{key}: origin {origin.get(key)}, copy {copy.get(key)}")
    return problems


__all__ = [
    "COUPON",
    "TAXED_LINES",
    "TAX_PRODUCTS",
    "TaxScenario",
    "TaxedShop",
    "place_taxed_order",
    "tax_differences",
    "taxed_shop",
]
