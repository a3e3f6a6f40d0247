"""In-memory WooCommerce order state: the domain behind the fake REST API.

Orders are kept exactly as WooCommerce 7.8's ``GET /wc/v3/orders/{id}`` returns them, so a read
is a lookup and a listing is a sort over dicts; ``present_order`` adds what a 10.6 store shows
on top. Everything WooCommerce derives (totals, taxes, ``needs_payment``, notes, stock, emails,
dates) is recomputed on write. Where 7.8 and 10.6 differ the store's ``wc_version`` knob picks
(docs/woocommerce-behaviour.md lists the differences and the recordings behind them). Nothing
here knows about HTTP.
"""

from __future__ import annotations

import copy
import random
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from app.testing.catalog import (
    CatalogProduct,
    CatalogVariation,
    attribute_slug,
    build_product,
    build_variable_parent,
    build_variation,
    refresh_variable_parent,
    stock_status,
    with_attribute_slugs,
)
from app.testing.errors import CriticalError, WPError, invalid_item_id, order_invalid_id
from app.testing.knobs import Knobs
from app.testing.phpcompat import money, php_number, to_decimal

Storage = Literal["posts", "hpos"]
OrderEvent = Literal["created", "updated", "deleted", "restored"]

WC_VERSION = "7.8.2"
WP_VERSION = "6.1.9"
# Full WooCommerce and WordPress versions of each line the fake can play.
RELEASES: dict[str, tuple[str, str]] = {"7.8": ("7.8.2", "6.1.9"), "10.6": ("10.6.2", "6.8.12")}
LINE_SECTIONS = ("line_items", "shipping_lines", "fee_lines")
# Statuses on which 10.6 moves stock when a line is added, changed or removed through REST.
STOCK_ADJUSTING = frozenset({"processing", "completed", "on-hold"})
TAX_RATE_ID = 1
CENT = Decimal("0.01")
# The private meta an edit made by the edit_while_listing knob leaves on the order.
EDIT_META_KEY = "_fake_edited_while_listed"

ORDER_STATUSES: tuple[str, ...] = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
# The create/update schema enum (recording 18 lists it in this order).
WRITABLE_STATUS_ENUM: tuple[str, ...] = ("auto-draft", *ORDER_STATUSES)
STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
    "trash": "Trash",
}
PAID_STATUSES = frozenset({"processing", "completed"})
STOCK_REDUCING = frozenset({"processing", "completed", "on-hold"})
STOCK_RESTORING = frozenset({"cancelled", "pending"})
EDITABLE_STATUSES = frozenset({"pending", "on-hold", "auto-draft"})
# On posts storage only a change to the post row itself moves post_modified; totals, addresses
# and meta live in postmeta (WC_Order_Data_Store_CPT::update). HPOS bumps on every save.
POSTS_DATE_FIELDS = frozenset({"status", "customer_note", "parent_id"})
TRASH_META_KEYS = frozenset(
    {
        "_wp_trash_meta_status",
        "_wp_trash_meta_time",
        "_wp_desired_post_slug",
        "_wp_trash_meta_comments_status",
    }
)

BILLING_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
SHIPPING_KEYS = tuple(k for k in BILLING_KEYS if k != "email")

DEFAULT_BILLING: dict[str, str] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "",
    "address_1": "1 Analytical St",
    "address_2": "",
    "city": "London",
    "state": "",
    "postcode": "N1 9GU",
    "country": "GB",
    "email": "ada@example.test",
    "phone": "+44 20 0000 0001",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _flag(value: Any, *, default: bool) -> bool:
    """A REST boolean that may arrive as JSON bool, int or string."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "")
    return bool(value)


def wc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class OrderExtras:
    """What WooCommerce keeps about an order outside the REST object."""

    notes: list[dict[str, Any]] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    stock_reduced: bool = False


@dataclass
class Refund:
    id: int
    order_id: int
    amount: Decimal
    reason: str
    date: str
    refunded_by: int
    line_items: list[dict[str, Any]]
    meta_ids: tuple[int, int]
    full: bool = False
    amount_text: str = ""
    # Meta posted with the refund: the REST controller saves it after wc_create_refund().
    meta: list[dict[str, Any]] = field(default_factory=list)
    # A refund of a shipping line or a fee is a line of that kind on the refund (real-*/r01).
    shipping_lines: list[dict[str, Any]] = field(default_factory=list)
    fee_lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WriteResult:
    """Outcome of a create: the order, and an error raised after it was already saved."""

    order: dict[str, Any]
    error: WPError | None = None


class StoreState:
    """Orders, products, notes, refunds and sent emails of one fake store."""

    def __init__(
        self,
        *,
        name: str,
        storage: Storage,
        base_url: str,
        site_title: str,
        clock: Callable[[], datetime],
        rng: random.Random,
        first_post_id: int,
        on_event: Callable[[OrderEvent, int], None],
        knobs: Knobs | None = None,
    ) -> None:
        self.name = name
        self.knobs = knobs if knobs is not None else Knobs()
        self.storage: Storage = storage
        self.base_url = base_url
        self.site_title = site_title
        self.admin_email = f"admin@{name}.example.test"
        self._clock = clock
        self.rng = rng
        self._on_event = on_event
        self.orders: dict[int, dict[str, Any]] = {}
        self.extras: dict[int, OrderExtras] = {}
        self.refunds: dict[int, Refund] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.sku_index: dict[str, int] = {}
        self.emails: list[dict[str, Any]] = []
        self.write_version = 0
        self.change_log: list[int] = []
        self.log_epoch = 0
        # WordPress gives products, orders and refunds ids from one sequence (wp_posts).
        self._next_post_id = first_post_id
        self._first_post_id = first_post_id
        self._next_item_id = 1
        self._next_item_meta_id = 1
        self._next_meta_id = 1000 if storage == "posts" else 100
        self._next_note_id = 1
        # Tax settings as the settings and taxes routes set them; the knobs are what counts.
        self.calc_taxes = self.knobs.tax_rate_percent > 0
        self.tax_rates: list[dict[str, Any]] = []
        self._next_tax_rate_id = 1
        self.tax_rate_id = TAX_RATE_ID
        self.tax_rate_name = "VAT"
        self.tax_rate_priority = 1
        # The general settings a store's money follows: new orders take the store's currency, and
        # every amount is written to its price decimals (real-*/m01: a KWD store set to 3).
        self.currency = "USD"
        self.price_decimals = 2
        # Amounts WooCommerce keeps to more places than it shows (a catalogue price less the tax
        # it includes, a total posted as 1.235, an item's tax, a cart tax summed unrounded):
        # shown to the cent, but taxes, totals, ``price`` and ``dp`` reads use these. Keyed by
        # (item id, key) and (order id, key).
        self._exact_items: dict[tuple[int, str], Decimal] = {}
        self._exact_orders: dict[tuple[int, str], Decimal] = {}

    # ----------------------------------------------------------------- basics

    @property
    def version(self) -> str:
        """The WooCommerce line this store plays: ``"7.8"`` or ``"10.6"``."""
        return self.knobs.wc_version

    @property
    def release(self) -> tuple[str, str]:
        """``(WooCommerce version, WordPress version)``, e.g. ``("7.8.2", "6.1.9")``."""
        return RELEASES[self.version]

    def now(self) -> str:
        return wc_date(self._clock())

    def _post_id(self) -> int:
        value = self._next_post_id
        self._next_post_id += 1
        return value

    def _item_id(self) -> int:
        value = self._next_item_id
        self._next_item_id += 1
        return value

    def _meta_id(self) -> int:
        value = self._next_meta_id
        self._next_meta_id += 1
        return value

    def _item_meta_id(self) -> int:
        value = self._next_item_meta_id
        self._next_item_meta_id += 1
        return value

    def touch(self, order_id: int) -> None:
        """Record that an order changed, for the incremental sort indexes of the listing."""
        self.write_version += 1
        self.change_log.append(order_id)
        if len(self.change_log) > 2 * len(self.orders) + 10_000:
            # Nobody listed for a long while: indexes rebuild instead of replaying the log.
            self.change_log.clear()
            self.log_epoch += 1

    def reserve_post_ids(self, first: int) -> None:
        self._next_post_id = max(self._next_post_id, first)

    # --------------------------------------------------------------- catalogue

    def add_product(self, entry: CatalogProduct) -> dict[str, Any]:
        """A simple product, or a variable one with its variations (ids in that order)."""
        variations = entry.get("variations") or []
        skus = [entry["sku"], *(v["sku"] for v in variations)]
        for sku in skus:
            if sku and (sku in self.sku_index or skus.count(sku) > 1):
                raise ValueError(f"duplicate SKU {sku!r}")
        product_id = self._post_id()
        now = self.now()
        if variations:
            product = build_variable_parent(product_id, entry, base_url=self.base_url, now=now)
            self.products[product_id] = product
            children = []
            for variation in variations:
                child = build_variation(self._post_id(), product, variation, base_url=self.base_url, now=now)
                self.products[child["id"]] = child
                self.sku_index[variation["sku"]] = child["id"]
                children.append(child)
            refresh_variable_parent(product, children)
        else:
            product = build_product(product_id, entry, base_url=self.base_url, now=now)
            self.products[product_id] = product
        if entry["sku"]:
            self.sku_index[entry["sku"]] = product_id
        # Related products are other top-level products; variations have none.
        ids = [i for i, p in self.products.items() if p["type"] != "variation"]
        for pid in ids:
            self.products[pid]["related_ids"] = [i for i in ids if i != pid][:5]
        return product

    def product_by_sku(self, sku: str) -> dict[str, Any] | None:
        product_id = self.sku_index.get(sku)
        return self.products.get(product_id) if product_id is not None else None

    def set_stock(self, product_id: int, stock: int | None) -> None:
        product = self.products[product_id]
        product["manage_stock"] = stock is not None
        product["stock_quantity"] = stock
        product["stock_status"] = stock_status(stock)

    def _relate_products(self) -> None:
        ids = [i for i, p in self.products.items() if p["type"] != "variation" and p["status"] != "trash"]
        for pid in ids:
            self.products[pid]["related_ids"] = [i for i in ids if i != pid][:5]

    def variations_of(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.products[i] for i in parent.get("variations", []) if i in self.products]

    def create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /products``: a simple or variable product (real-*/v01)."""
        kind = str(body.get("type") or "simple")
        if kind not in ("simple", "variable"):
            raise WPError("rest_invalid_param", "Invalid parameter(s): type", 400)
        name = str(body.get("name") or "Product")
        sku = str(body.get("sku") or "") or None
        if sku and sku in self.sku_index:
            raise WPError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                400,
                extra={"resource_id": 0, "unique_sku": sku},
            )
        price = str(body.get("regular_price") or "")
        stock = body.get("stock_quantity") if body.get("manage_stock") else None
        entry = CatalogProduct(
            sku=sku, name=name, price=price, stock=int(stock) if stock is not None else None
        )
        product_id = self._post_id()
        if kind == "variable":
            attributes = {
                str(a.get("name")): [str(o) for o in a.get("options") or []]
                for a in body.get("attributes") or []
                if isinstance(a, dict) and a.get("name")
            }
            product = build_variable_parent(
                product_id, entry, base_url=self.base_url, now=self.now(), attributes=attributes
            )
        else:
            product = build_product(product_id, entry, base_url=self.base_url, now=self.now())
        self.products[product_id] = product
        if sku:
            self.sku_index[sku] = product_id
        self._relate_products()
        return product

    def create_variation(self, parent_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /products/{id}/variations`` (real-*/v02a, v02b)."""
        parent = self.products.get(parent_id)
        if parent is None or parent["type"] != "variable":
            raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        sku = str(body.get("sku") or "")
        if sku and sku in self.sku_index:
            raise WPError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                400,
                extra={"resource_id": 0, "unique_sku": sku},
            )
        stock = body.get("stock_quantity") if body.get("manage_stock") else None
        variation = CatalogVariation(
            sku=sku,
            price=str(body.get("regular_price") or ""),
            stock=int(stock) if stock is not None else None,
            attributes={
                str(a.get("name")): str(a.get("option"))
                for a in body.get("attributes") or []
                if isinstance(a, dict) and a.get("name")
            },
        )
        child = build_variation(self._post_id(), parent, variation, base_url=self.base_url, now=self.now())
        self.products[child["id"]] = child
        if sku:
            self.sku_index[sku] = child["id"]
        refresh_variable_parent(parent, [*self.variations_of(parent), child])
        return child

    def delete_product(self, product_id: int, *, force: bool) -> dict[str, Any]:
        """``DELETE /products/{id}``: to the trash, or for good with its variations."""
        product = self.products.get(product_id)
        if product is None:
            raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        before = copy.deepcopy(product)
        if not force:
            product["status"] = "trash"
            return before
        for child in self.variations_of(product):
            self._forget_product(child)
        self._forget_product(product)
        parent = self.products.get(product["parent_id"])
        if parent is not None:
            refresh_variable_parent(parent, self.variations_of(parent))
        self._relate_products()
        return before

    def _forget_product(self, product: dict[str, Any]) -> None:
        self.products.pop(product["id"], None)
        if product["sku"] and self.sku_index.get(product["sku"]) == product["id"]:
            del self.sku_index[product["sku"]]

    # ----------------------------------------------------------- tax settings

    def set_setting(self, group: str, name: str, value: Any) -> dict[str, Any]:
        """``PUT /settings/{group}/{id}`` for the options the fake models."""
        flag = str(value).lower() == "yes"
        if (group, name) == ("general", "woocommerce_currency"):
            self.currency = str(value)
            return self.setting(group, name)
        if (group, name) == ("general", "woocommerce_price_num_decimals"):
            self.price_decimals = max(0, int(to_decimal(value, Decimal(2))))
            return self.setting(group, name)
        if (group, name) == ("general", "woocommerce_calc_taxes"):
            self.calc_taxes = flag
        elif (group, name) == ("tax", "woocommerce_prices_include_tax"):
            self.knobs.prices_include_tax = flag
        elif (group, name) == ("tax", "woocommerce_tax_round_at_subtotal"):
            self.knobs.tax_round_at_subtotal = flag
        else:
            raise WPError("rest_setting_setting_invalid", "Invalid setting.", 404)
        self._apply_tax_settings()
        return self.setting(group, name)

    def setting(self, group: str, name: str) -> dict[str, Any]:
        """``GET /settings/{group}/{id}`` for the options the fake models."""
        values = {
            ("general", "woocommerce_currency"): ("select", self.currency),
            ("general", "woocommerce_price_num_decimals"): ("number", str(self.price_decimals)),
            ("general", "woocommerce_calc_taxes"): ("checkbox", "yes" if self.calc_taxes else "no"),
            ("tax", "woocommerce_prices_include_tax"): (
                "radio",
                "yes" if self.knobs.prices_include_tax else "no",
            ),
            ("tax", "woocommerce_tax_round_at_subtotal"): (
                "checkbox",
                "yes" if self.knobs.tax_round_at_subtotal else "no",
            ),
        }
        if (group, name) not in values:
            raise WPError("rest_setting_setting_invalid", "Invalid setting.", 404)
        kind, value = values[(group, name)]
        return {"id": name, "type": kind, "value": value, "group_id": group}

    @property
    def unit(self) -> Decimal:
        """The smallest amount the store's price decimals show (0.01, 0.001 for KWD, 1 for JPY)."""
        return Decimal(1).scaleb(-self.price_decimals)

    def money(self, value: Decimal, dp: int | None = None) -> str:
        """An amount as this store writes it: ``wc_format_decimal`` to its price decimals."""
        return money(value, self.price_decimals if dp is None else dp)

    def add_tax_rate(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /taxes``: the fake models one standard rate for every country."""
        rate = {
            "id": self._next_tax_rate_id,
            "country": str(body.get("country") or ""),
            "state": str(body.get("state") or ""),
            "postcode": "",
            "city": "",
            "postcodes": [],
            "cities": [],
            "rate": str(body.get("rate") or "0"),
            "name": str(body.get("name") or "Tax"),
            "priority": int(body.get("priority") or 1),
            "compound": bool(body.get("compound")),
            "shipping": body.get("shipping") is not False,
            "order": len(self.tax_rates),
            "class": str(body.get("class") or "standard"),
        }
        self._next_tax_rate_id += 1
        self.tax_rates.append(rate)
        self._apply_tax_settings()
        return rate

    def delete_tax_rate(self, rate_id: int) -> dict[str, Any]:
        rate = next((r for r in self.tax_rates if r["id"] == rate_id), None)
        if rate is None:
            raise WPError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        self.tax_rates.remove(rate)
        self._apply_tax_settings()
        return rate

    def _apply_tax_settings(self) -> None:
        """Taxes on with a rate is the ``tax_rate_percent`` knob; anything else is 0 (no rate:
        no tax at all, real-*/t00)."""
        rate = self.tax_rates[0] if self.calc_taxes and self.tax_rates else None
        self.knobs.tax_rate_percent = float(to_decimal(rate["rate"])) if rate else 0.0
        if rate:
            self.tax_rate_id = rate["id"]
            self.tax_rate_name = rate["name"]
            self.tax_rate_priority = rate["priority"]

    # ------------------------------------------------------------------ orders

    def get_order(self, order_id: int, *, missing_status: int = 404) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise order_invalid_id(missing_status)
        return order

    def _new_order(self, created_via: str) -> dict[str, Any]:
        zero = self.money(Decimal(0))
        return {
            "id": 0,
            "parent_id": 0,
            "status": "pending",
            "currency": self.currency,
            "version": self.release[0],
            # Set from the store's option on create, taxes on or off (real-*/t00, t04).
            "prices_include_tax": self.knobs.prices_include_tax,
            "date_created": None,
            "date_modified": None,
            "discount_total": zero,
            "discount_tax": zero,
            "shipping_total": zero,
            "shipping_tax": zero,
            "cart_tax": zero,
            "total": zero,
            "total_tax": zero,
            "customer_id": 0,
            "order_key": "wc_order_"
            + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(13)),
            "billing": {key: "" for key in BILLING_KEYS},
            "shipping": {key: "" for key in SHIPPING_KEYS},
            "payment_method": "",
            "payment_method_title": "",
            "transaction_id": "",
            "customer_ip_address": "",
            "customer_user_agent": "",
            "created_via": created_via,
            "customer_note": "",
            "date_completed": None,
            "date_paid": None,
            "cart_hash": "",
            "number": "",
            "meta_data": [],
            "line_items": [],
            "tax_lines": [],
            "shipping_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
            "payment_url": "",
            "is_editable": True,
            "needs_payment": False,
            "needs_processing": False,
            "date_created_gmt": None,
            "date_modified_gmt": None,
            "date_completed_gmt": None,
            "date_paid_gmt": None,
            "currency_symbol": "$",
            "_links": {},
        }

    @staticmethod
    def _set_date(order: dict[str, Any], name: str, value: str | None) -> None:
        # The store's timezone is UTC, so the local and GMT twins are equal (README).
        order[name] = value
        order[f"{name}_gmt"] = value

    def _save_new(self, order: dict[str, Any]) -> None:
        order_id = self._post_id()
        now = self.now()
        order["id"] = order_id
        order["number"] = str(order_id)
        self._set_date(order, "date_created", now)
        self._set_date(order, "date_modified", now)
        order["payment_url"] = (
            f"{self.base_url}/checkout/order-pay/{order_id}/?pay_for_order=true&key={order['order_key']}"
        )
        order["_links"] = {
            "self": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}"}],
            "collection": [{"href": f"{self.base_url}/wp-json/wc/v3/orders"}],
        }
        self.orders[order_id] = order
        self.extras[order_id] = OrderExtras()
        self.touch(order_id)
        self._on_event("created", order_id)

    # ---------------------------------------------------------------- writing

    def create_order(
        self, body: dict[str, Any], *, created_via: str = "rest-api", sanitized: bool = True
    ) -> WriteResult:
        """``POST /orders`` or one batch create, in WooCommerce's order of work: props and
        items, save, totals, coupons, status, ``set_paid``. Schema checks are the caller's (a
        batch skips them, and its values are not ``sanitized`` either)."""
        if body.get("id"):
            raise WPError("woocommerce_rest_shop_order_exists", "Cannot create existing shop_order.", 400)
        posted_via = body.get("created_via")
        if self.version != "7.8" and isinstance(posted_via, str) and posted_via.strip():
            # 10.6 takes created_via on create (7.8 always says rest-api, real-*/s08).
            created_via = posted_via.strip()
        order = self._new_order(created_via)
        self._apply_props(order, body, creating=True, sanitized=sanitized)
        self._save_new(order)
        self._recalculate(order)
        coupon_error = self._coupon_error(body)
        if coupon_error is not None:
            # The order was saved before coupons are checked, so it stays: 7.8 leaves it as it
            # was (pending, 43b, real-7.8-*/d02); 10.6 turns it into a checkout-draft and names
            # it in the error (real-10.6-hpos/d01, d02).
            if self.version != "7.8":
                self._transition(order, "checkout-draft")
                coupon_error.extra["new_draft_order_id"] = order["id"]
            self._refresh(order)
            return WriteResult(order, coupon_error)
        status = body.get("status")
        if isinstance(status, str) and status:
            self._transition(order, self._normalise_status(status))
        if body.get("set_paid") is True:
            self._payment_complete(order, str(body.get("transaction_id") or ""))
        self._refresh(order)
        return WriteResult(order)

    def _coupon_error(self, body: dict[str, Any]) -> WPError | None:
        """The fake has no coupons: any coupon line names a coupon that does not exist."""
        coupons = body.get("coupon_lines")
        if not isinstance(coupons, list) or not coupons:
            return None
        first = coupons[0]
        code = str(first.get("code", "")) if isinstance(first, dict) else ""
        if self.version == "7.8":
            message = f'Coupon "{code}" does not exist!'
        else:
            message = f"Coupon &quot;{code}&quot; cannot be applied because it does not exist."
        return WPError("woocommerce_rest_invalid_coupon", message, 400)

    def update_order(
        self,
        order_id: int,
        body: dict[str, Any],
        *,
        missing_status: int = 400,
        admin: bool = False,
        sanitized: bool = True,
    ) -> dict[str, Any]:
        """``PUT /orders/{id}``; ``admin`` is an edit in wp-admin, which always saves the post.

        An error while the request's lines are applied leaves the order as it was, except
        that each existing line updated before the error stays updated (WooCommerce saves an
        updated item at once, real-*/l06b) while the order's totals stay old. A coupon error
        comes after the order was saved with everything but its status (real-*/l06d)."""
        current = self.get_order(order_id, missing_status=missing_status)
        was_trash = current["status"] == "trash"
        # Work on a copy: an error before the save leaves the stored order untouched.
        order = copy.deepcopy(current)
        saved: list[tuple[str, dict[str, Any]]] = []
        try:
            changed = self._apply_props(order, body, creating=False, sanitized=sanitized, saved=saved)
        except WPError:
            self._keep_saved_items(current, saved)
            raise
        if any(
            key in body
            for key in ("billing", "shipping", "line_items", "shipping_lines", "fee_lines", "coupon_lines")
        ):
            self._recalculate(order)
        self.orders[order_id] = order
        coupon_error = self._coupon_error(body)
        if coupon_error is not None:
            self._finish_update(order, changed, admin=admin)
            self._on_event("updated", order_id)
            raise coupon_error
        status = body.get("status")
        if isinstance(status, str) and status:
            new_status = self._normalise_status(status)
            if new_status != order["status"]:
                changed.add("status")
                self._transition(order, new_status)
        if body.get("set_paid") is True:
            self._refresh(order)
            if order["needs_payment"] and self._payment_complete(
                order, str(body.get("transaction_id") or "")
            ):
                changed.add("status")
        self._finish_update(order, changed, admin=admin)
        if was_trash and order["status"] != "trash":
            order["meta_data"][:] = [m for m in order["meta_data"] if m["key"] not in TRASH_META_KEYS]
            self._on_event("restored", order_id)
        else:
            self._on_event("updated", order_id)
        return order

    def _keep_saved_items(self, order: dict[str, Any], saved: list[tuple[str, dict[str, Any]]]) -> None:
        """Write the items a failed update had already saved into the stored order."""
        for section, item in saved:
            items: list[dict[str, Any]] = order[section]
            for index, existing in enumerate(items):
                if existing["id"] == item["id"]:
                    items[index] = item
        if saved:
            self.touch(order["id"])

    def _finish_update(self, order: dict[str, Any], changed: set[str], *, admin: bool) -> None:
        if admin or self.storage == "hpos" or changed & POSTS_DATE_FIELDS:
            self._set_date(order, "date_modified", self.now())
        self._refresh(order)
        self.touch(order["id"])

    def trash_order(self, order_id: int) -> dict[str, Any]:
        order = self.get_order(order_id)
        if order["status"] == "trash":
            raise WPError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
        before = copy.deepcopy(order)
        extras = self.extras[order_id]
        # wp_trash_post's bookkeeping shows up in the REST meta_data (33b); posts storage also
        # keeps the slug and the notes' comment status.
        trash_meta: list[dict[str, Any]] = [
            {"key": "_wp_trash_meta_status", "value": f"wc-{order['status']}"},
            {"key": "_wp_trash_meta_time", "value": str(int(self._clock().timestamp()))},
        ]
        if self.storage == "posts":
            trash_meta.append({"key": "_wp_desired_post_slug", "value": self._post_slug(order)})
            trash_meta.append(
                {
                    "key": "_wp_trash_meta_comments_status",
                    "value": {str(note["id"]): "1" for note in extras.notes},
                }
            )
        self._apply_meta(order["meta_data"], trash_meta, self._meta_id, item_meta=False)
        order["status"] = "trash"
        self._set_date(order, "date_modified", self.now())
        self._refresh(order)
        self.touch(order_id)
        self._on_event("deleted", order_id)
        return before

    def _post_slug(self, order: dict[str, Any]) -> str:
        """The order post's ``post_name``: its title "Order – Nov 22, 2026 @ 07:53 AM",
        sanitised, with WordPress's ``-N`` suffix for orders of the same minute."""
        created = datetime.strptime(order["date_created_gmt"], "%Y-%m-%dT%H:%M:%S")
        slug = "order-" + created.strftime("%b-%d-%Y-%I%M-%p").lower()
        minute = order["date_created_gmt"][:16]
        earlier = 0
        for other_id in range(order["id"] - 1, 0, -1):
            other = self.orders.get(other_id)
            if other is None:
                if other_id < self._first_post_id:
                    break
                continue
            if other["date_created_gmt"][:16] != minute:
                break
            earlier += 1
        return f"{slug}-{earlier + 1}" if earlier else slug

    def delete_order(self, order_id: int) -> dict[str, Any]:
        """Permanent delete; fires no webhook (``order.deleted`` is wired to trash only)."""
        order = self.get_order(order_id)
        del self.orders[order_id]
        extras = self.extras.pop(order_id, OrderExtras())
        for refund_id in extras.refund_ids:
            self.refunds.pop(refund_id, None)
        self.touch(order_id)
        return order

    # ------------------------------------------------------------ properties

    def _normalise_status(self, status: str) -> str:
        # WC_Order::set_status turns anything unregistered into pending; the REST schema
        # stops that earlier except inside a batch (recording 23; a plugin's status a store
        # lacks, sent in a batch, seen on real 10.6.2).
        registered = status in ORDER_STATUSES or status in self.knobs.registered_extra_statuses()
        return status if registered else "pending"

    def _apply_props(
        self,
        order: dict[str, Any],
        body: dict[str, Any],
        *,
        creating: bool,
        sanitized: bool = True,
        saved: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> set[str]:
        changed: set[str] = set()
        for key in ("currency", "payment_method", "payment_method_title", "transaction_id"):
            if key in body and body[key] is not None:
                value = str(body[key])
                if order[key] != value:
                    order[key] = value
                    changed.add(key)
        if "customer_note" in body and body["customer_note"] is not None:
            note = str(body["customer_note"])
            if note != order["customer_note"]:
                order["customer_note"] = note
                changed.add("customer_note")
        if "customer_id" in body and body["customer_id"] not in (None, "", 0, "0"):
            raise WPError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
        if "parent_id" in body and body["parent_id"] not in (None, ""):
            parent = int(to_decimal(body["parent_id"]))
            if parent and parent not in self.orders:
                raise WPError("order_invalid_parent_id", "Invalid parent ID", 400)
            if parent != order["parent_id"]:
                order["parent_id"] = parent
                changed.add("parent_id")
        for section, keys in (("billing", BILLING_KEYS), ("shipping", SHIPPING_KEYS)):
            values = body.get(section)
            if isinstance(values, dict):
                for key in keys:
                    if key in values and values[key] is not None:
                        value = str(values[key])
                        if section == "billing" and key == "email" and value and not _EMAIL.match(value):
                            raise WPError(
                                "customer_invalid_billing_email", "Invalid billing email address", 400
                            )
                        if order[section][key] != value:
                            order[section][key] = value
                            changed.add(section)
        meta = body.get("meta_data")
        if isinstance(meta, list):
            if self._apply_meta(order["meta_data"], meta, self._meta_id, item_meta=False):
                changed.add("meta_data")
        # In the schema's order: line items, then shipping lines, then fees (real-*/l06b).
        for section in LINE_SECTIONS:
            items = body.get(section)
            if isinstance(items, list) and items:
                self._apply_items(order, section, items, sanitized=sanitized, saved=saved)
                changed.add(section)
        return changed

    @staticmethod
    def _apply_meta(
        meta: list[dict[str, Any]],
        posted: Iterable[Any],
        next_id: Callable[[], int],
        *,
        item_meta: bool,
    ) -> bool:
        """``WC_Data::update_meta_data(key, value, id)`` for each posted entry, in turn (the same
        on 7.8 posts, 7.8 HPOS and 10.6 HPOS, tests/real/test_money.py): an ``id`` the object
        has names that entry, which takes the key and value (a rename keeps its place and id);
        without one, every entry with the key is deleted but the first, which takes the value;
        with an ``id`` it does not have or a key it does not hold, the key's entries are
        deleted and a new one is added at the end. ``null`` deletes."""
        changed = False
        for entry in posted:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            key = str(entry["key"])
            value = entry.get("value")
            index: int | None = None
            if entry.get("id"):
                index = next((i for i, m in enumerate(meta) if m["id"] == entry["id"]), None)
            else:
                matches = [i for i, m in enumerate(meta) if m["key"] == key]
                if matches:
                    index = matches[0]
                    for extra in reversed(matches[1:]):
                        del meta[extra]
                        changed = True
            if index is None:
                before = len(meta)
                meta[:] = [m for m in meta if m["key"] != key]
                changed = changed or len(meta) != before
                if value is None:
                    continue
                row: dict[str, Any] = {"id": next_id(), "key": key, "value": value}
                if item_meta:
                    row["display_key"] = key
                    row["display_value"] = value
                meta.append(row)
                changed = True
                continue
            if value is None:
                del meta[index]
                changed = True
                continue
            if meta[index]["key"] != key or meta[index]["value"] != value:
                meta[index]["key"] = key
                meta[index]["value"] = value
                if item_meta:
                    meta[index]["display_key"] = key
                    meta[index]["display_value"] = value
                changed = True
        return changed

    def _resolve_product(self, posted: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
        """``get_product_id()``: the SKU first, then ``product_id`` unless a ``variation_id`` is
        given, then ``variation_id``; the product found may be a variation (real-*/v06a-c)."""
        sku = posted.get("sku")
        if isinstance(sku, str) and sku:
            return self.product_by_sku(sku)
        product_id, variation_id = posted.get("product_id"), posted.get("variation_id")
        chosen = None
        if product_id not in (None, "", 0, "0") and variation_id in (None, "", 0, "0"):
            chosen = product_id
        elif variation_id not in (None, "", 0, "0"):
            chosen = variation_id
        if chosen is not None:
            return self.products.get(int(to_decimal(chosen)))
        if required:
            raise WPError(
                "woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400
            )
        return None

    def _apply_items(
        self,
        order: dict[str, Any],
        section: str,
        posted: list[Any],
        *,
        sanitized: bool,
        saved: list[tuple[str, dict[str, Any]]] | None,
    ) -> None:
        """Each posted line in turn: a removal (``quantity: 0``, or ``product_id``,
        ``method_id``, ``method_title``, ``name`` or ``code`` set to null), an update (an
        ``id``) or a new line (no ``id``)."""
        for raw in posted:
            if not isinstance(raw, dict):
                continue
            if self._item_is_null(raw) or self._zero_quantity(raw, sanitized=sanitized):
                self._remove_item(order, section, raw)
            else:
                self._set_item(order, section, raw, saved=saved)

    @staticmethod
    def _item_is_null(raw: dict[str, Any]) -> bool:
        return any(
            key in raw and raw[key] is None
            for key in ("product_id", "method_id", "method_title", "name", "code")
        )

    @staticmethod
    def _zero_quantity(raw: dict[str, Any], *, sanitized: bool) -> bool:
        """``0 === $item['quantity']``, after WordPress sanitised the value to the schema's
        integer: ``"0"`` counts on ``PUT /orders/{id}`` (real-*/l04d); a batch item is not
        sanitised, so there only a JSON ``0`` does."""
        if "quantity" not in raw or isinstance(raw["quantity"], bool):
            return False
        quantity = raw["quantity"]
        if isinstance(quantity, int):
            return quantity == 0
        if not sanitized:
            return False
        if isinstance(quantity, float | str):
            value = to_decimal(quantity, Decimal(1))
            return value == 0
        return False

    def _find_item(self, order: dict[str, Any], item_id: int) -> tuple[str, int] | None:
        """``(section, index)`` of an item of this order, in any section."""
        for section in (*LINE_SECTIONS, "tax_lines"):
            for index, item in enumerate(order[section]):
                if item["id"] == item_id:
                    return section, index
        return None

    def _item_exists(self, item_id: int) -> bool:
        """Whether any order or refund of the store has this item (``WC_Order_Factory::
        get_order_item`` reads it from the database whichever order it belongs to)."""
        for order in self.orders.values():
            if self._find_item(order, item_id) is not None:
                return True
        return any(
            line["id"] == item_id
            for refund in self.refunds.values()
            for line in (*refund.line_items, *refund.shipping_lines, *refund.fee_lines)
        )

    def _remove_item(self, order: dict[str, Any], section: str, raw: dict[str, Any]) -> None:
        """Remove the line ``raw["id"]`` names, from whichever section holds it (real-*/l04c).

        7.8's ``remove_item()`` ignores an id the order does not have (real-7.8-*/l03a-e, l05).
        10.6 answers 400 when the id is no item at all (real-10.6-hpos/l03a-d), ignores an item
        of another order (l03e), puts a removed line's reduced stock back (l09) and dies with a
        PHP TypeError, a 500, when the removal has no id (l05)."""
        raw_id = raw.get("id")
        if self.version == "7.8":
            found = self._find_item(order, _absint(raw_id)) if raw_id is not None else None
            if found is not None:
                del order[found[0]][found[1]]
            return
        if raw_id is None or isinstance(raw_id, bool) or not _numeric(raw_id):
            raise CriticalError()
        item_id = int(to_decimal(raw_id))
        found = self._find_item(order, item_id)
        if found is None:
            if not self._item_exists(item_id):
                raise invalid_item_id()
            return
        found_section, index = found
        item = order[found_section][index]
        if section == "line_items" and found_section == "line_items":
            self._adjust_line_stock(order, item, quantity=0)
        del order[found_section][index]

    def _set_item(
        self,
        order: dict[str, Any],
        section: str,
        raw: dict[str, Any],
        *,
        saved: list[tuple[str, dict[str, Any]]] | None,
    ) -> None:
        """``set_item()``: update the line ``id`` names (saved at once) or add a new one."""
        items: list[dict[str, Any]] = order[section]
        raw_id = raw.get("id")
        if raw_id not in (None, "", 0, "0", False):
            item_id = _absint(raw_id)
            index = next((i for i, it in enumerate(items) if it["id"] == item_id), None)
            if index is None:
                raise invalid_item_id()
            item = items[index]
            self._update_item(section, item, raw)
        else:
            item = self._create_item(section, raw)
            items.append(item)
        if section == "line_items" and self.version != "7.8" and order["status"] in STOCK_ADJUSTING:
            # 10.6 moves stock with the line and says so in a note (real-10.6-hpos/l10).
            moved = self._adjust_line_stock(order, item)
            if moved is not None:
                self.add_note(
                    order["id"],
                    f"Adjusted stock: {item['name']} ({moved[0]}&rarr;{moved[1]})",
                    added_by_user=True,
                )
        if raw_id not in (None, "", 0, "0", False) and saved is not None:
            saved.append((section, copy.deepcopy(item)))

    def _adjust_line_stock(
        self, order: dict[str, Any], item: dict[str, Any], *, quantity: int | None = None
    ) -> tuple[int, int] | None:
        """``wc_maybe_adjust_line_item_product_stock()`` (10.6): bring the product's stock in
        line with the line's quantity (0: the line goes away) and return ``(from, to)``."""
        product = self._stock_product(item)
        if product is None or not product["manage_stock"]:
            return None
        wanted = int(item["quantity"]) if quantity is None else quantity
        reduced = _meta_int(item, "_reduced_stock")
        restocked = _meta_int(item, "_restock_refunded_items")
        diff = -reduced if wanted == 0 else wanted - restocked - reduced
        if diff == 0:
            return None
        old = int(product["stock_quantity"])
        self._set_product_stock(product, old - diff, sold=diff)
        self._apply_meta(
            item["meta_data"],
            [{"key": "_reduced_stock", "value": str(wanted - restocked)}],
            self._item_meta_id,
            item_meta=True,
        )
        if wanted > 0:
            self.extras[order["id"]].stock_reduced = True
        return old, old - diff

    def _stock_product(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The product whose stock a line moves: its variation, if it has one."""
        return self.products.get(item.get("variation_id") or item["product_id"])

    def _link_product(self, item: dict[str, Any], product: dict[str, Any] | None) -> None:
        """``WC_Order_Item_Product::set_product()``: a variation line names the parent as
        ``product_id``, the variation as ``variation_id``, and carries the variation's
        attributes as meta (``size: M``, shown as ``Size``) ahead of any posted meta."""
        parent = (
            self.products.get(product["parent_id"]) if product and product["type"] == "variation" else None
        )
        item["product_id"] = (parent or product or {}).get("id", 0)
        item["variation_id"] = product["id"] if parent and product else 0
        item["sku"] = (product["sku"] or None) if product else None
        item["parent_name"] = parent["name"] if parent else None
        item["image"] = {"id": 0 if parent or not product else "", "src": ""}
        if product:
            item["name"] = product["name"]
        if parent and product:
            for attribute in product["attributes"]:
                key = attribute_slug(attribute["name"])
                row = next((m for m in item["meta_data"] if m["key"] == key), None)
                if row is None:
                    row = {"id": self._item_meta_id(), "key": key}
                    item["meta_data"].append(row)
                row.update(
                    {
                        "value": attribute["option"],
                        "display_key": attribute["name"],
                        "display_value": attribute["option"],
                    }
                )

    def _catalogue_line_total(self, product: dict[str, Any], quantity: int) -> Decimal:
        """``wc_get_price_excluding_tax()``: with taxes on and prices entered with tax, the
        catalogue price less the rate, to six places (2.50 -> 2.083333, real-*/t05)."""
        amount = to_decimal(product["price"]) * quantity
        rate = self._tax_rate()
        if rate and self.knobs.prices_include_tax and product.get("tax_status", "taxable") == "taxable":
            amount = _round_tax(amount / (1 + rate))
        return amount

    def _create_item(self, section: str, raw: dict[str, Any]) -> dict[str, Any]:
        zero = self.money(Decimal(0))
        if section == "line_items":
            product = self._resolve_product(raw, required=True)
            quantity = int(to_decimal(raw.get("quantity"), Decimal(1)))
            item: dict[str, Any] = {
                "id": self._item_id(),
                "name": "",
                "product_id": 0,
                "variation_id": 0,
                "quantity": quantity,
                "tax_class": "",
                "subtotal": zero,
                "subtotal_tax": zero,
                "total": zero,
                "total_tax": zero,
                "taxes": [],
                "meta_data": [],
                "sku": None,
                "price": 0,
                "image": {"id": 0, "src": ""},
                "parent_name": None,
            }
            self._link_product(item, product)
            if product:
                exact = self._catalogue_line_total(product, quantity)
                item["subtotal"] = item["total"] = self.money(exact)
                self._exact_items[(item["id"], "subtotal")] = exact
                self._exact_items[(item["id"], "total")] = exact
            self._set_item_props(item, raw, ("name", "quantity", "subtotal", "total", "tax_class"))
            if isinstance(raw.get("meta_data"), list):
                self._apply_meta(item["meta_data"], raw["meta_data"], self._item_meta_id, item_meta=True)
            self._reprice(item)
            return item
        if section == "shipping_lines":
            if not raw.get("method_id"):
                raise WPError(
                    "woocommerce_rest_invalid_shipping_item", "Shipping method ID is required.", 400
                )
            item = {
                "id": self._item_id(),
                "method_title": "",
                "method_id": "",
                "instance_id": "",
                "total": zero,
                "total_tax": zero,
                "taxes": [],
                "meta_data": [],
            }
            self._set_item_props(item, raw, ("method_title", "method_id", "instance_id", "total"))
        else:
            if not raw.get("name"):
                raise WPError("woocommerce_rest_invalid_fee_item", "Fee name is required.", 400)
            item = {
                "id": self._item_id(),
                "name": "",
                "tax_class": "",
                "tax_status": "taxable",
                # A fee's "amount" prop is never set through REST: always "" (real-*/s01).
                "amount": "",
                "total": zero,
                "total_tax": zero,
                "taxes": [],
                "meta_data": [],
            }
            self._set_item_props(item, raw, ("name", "tax_class", "tax_status", "total"))
        if isinstance(raw.get("meta_data"), list):
            self._apply_meta(item["meta_data"], raw["meta_data"], self._item_meta_id, item_meta=True)
        return item

    def _update_item(self, section: str, item: dict[str, Any], raw: dict[str, Any]) -> None:
        if section == "line_items":
            if any(k in raw for k in ("sku", "product_id", "variation_id")):
                product = self._resolve_product(raw, required=False)
                # A product change on update relinks the line but never reprices it.
                keep_name = "name" in raw
                name = item["name"]
                self._link_product(item, product)
                if keep_name or product is None:
                    item["name"] = name
            self._set_item_props(item, raw, ("name", "quantity", "subtotal", "total", "tax_class"))
            self._reprice(item)
        elif section == "shipping_lines":
            self._set_item_props(item, raw, ("method_title", "method_id", "instance_id", "total"))
        else:
            self._set_item_props(item, raw, ("name", "tax_class", "tax_status", "total"))
        if isinstance(raw.get("meta_data"), list):
            self._apply_meta(item["meta_data"], raw["meta_data"], self._item_meta_id, item_meta=True)

    def _set_item_props(self, item: dict[str, Any], raw: dict[str, Any], keys: Iterable[str]) -> None:
        for key in keys:
            if key not in raw or raw[key] is None:
                continue
            value = raw[key]
            if key == "quantity":
                item[key] = int(to_decimal(value, Decimal(1)))
            elif key in ("subtotal", "total"):
                # Kept as posted, to every place (real-*/t-x1): 1.235 stays 1.235.
                exact = to_decimal(value)
                item[key] = self.money(exact)
                self._exact_items[(item["id"], key)] = exact
            else:
                item[key] = str(value)

    def _reprice(self, item: dict[str, Any]) -> None:
        """``price`` is total / quantity in PHP floats: 10, 9.5, 6 (recording 22), and
        8.549999999999999 for 25.65 / 3 (real-*/t01); 0 for a quantity of 0."""
        quantity = int(item["quantity"])
        if quantity == 0:
            item["price"] = 0
            return
        value = float(self._line_amount(item, "total")) / quantity
        item["price"] = int(value) if value.is_integer() else value

    # ----------------------------------------------------------------- taxes

    def _tax_rate(self) -> Decimal:
        """The standard rate as a fraction (0.2 for 20 %), 0 with taxes off."""
        percent = Decimal(str(self.knobs.tax_rate_percent))
        return percent / 100 if percent > 0 else Decimal(0)

    def _tax_lines(self, order: dict[str, Any], cart_tax: Decimal, shipping_tax: Decimal) -> None:
        """One tax line for the one rate, kept (with its id) across recalculations."""
        percent = Decimal(str(self.knobs.tax_rate_percent))
        if percent <= 0:
            order["tax_lines"] = []
            return
        existing = next((t for t in order["tax_lines"] if t["rate_id"] == self.tax_rate_id), None)
        line = existing or {"id": self._item_id()}
        self._exact_items[(line["id"], "tax_total")] = cart_tax
        self._exact_items[(line["id"], "shipping_tax_total")] = shipping_tax
        line.update(
            {
                "rate_code": f"{self.tax_rate_name.upper()}-{self.tax_rate_priority}",
                "rate_id": self.tax_rate_id,
                "label": self.tax_rate_name,
                "compound": False,
                "tax_total": self.money(cart_tax),
                "shipping_tax_total": self.money(shipping_tax),
                "rate_percent": php_number(percent),
                "meta_data": line.get("meta_data", []),
            }
        )
        order["tax_lines"] = [line]

    def _line_amount(self, item: dict[str, Any], key: str) -> Decimal:
        """An item's amount to the places WooCommerce keeps (see ``_exact_items``)."""
        exact = self._exact_items.get((item["id"], key))
        return exact if exact is not None else to_decimal(item[key])

    def exact_amount(self, kind: str, owner: int, key: str) -> Decimal | None:
        """An amount as stored, for a ``dp`` read: ``kind`` is ``"order"`` or ``"item"``."""
        return (self._exact_orders if kind == "order" else self._exact_items).get((owner, key))

    def _keep(self, item: dict[str, Any], key: str, value: Decimal) -> None:
        self._exact_items[(item["id"], key)] = value
        item[key] = self.money(value)

    def _tax_entry(self, total: Decimal, subtotal: Decimal | None) -> dict[str, Any]:
        """One rate in a line's ``taxes``: 7.8 prints the stored float (``"5.7"``,
        ``"0.416667"``), 10.6 formats it to the cent (``"5.70"``) (real-*/t01, t05)."""
        show: Callable[[Decimal], str] = _php_float if self.version == "7.8" else money
        return {
            "id": self.tax_rate_id,
            "total": show(total),
            "subtotal": show(subtotal) if subtotal is not None else "",
        }

    def _recalculate(self, order: dict[str, Any]) -> None:
        """``calculate_totals()`` (docs/woocommerce-behaviour.md, "Taxes: what a REST create
        recomputes"): line totals are kept as stored, always taken as without tax (real-*/t04);
        each line, fee and shipping line is taxed from its stored amount, each tax to six places.
        With "round tax at subtotal level" off each item's tax is rounded to the cent before it
        is summed, half down when prices include tax and half up otherwise
        (``wc_get_tax_rounding_mode``); on, the taxes are summed unrounded and only
        ``total_tax`` and ``total`` are rounded (real stores, tests/real/test_tax_facts.py)."""
        rate = self._tax_rate()
        at_subtotal = self.knobs.tax_round_at_subtotal
        mode = ROUND_HALF_DOWN if self.knobs.prices_include_tax else ROUND_HALF_UP

        def per_item(tax: Decimal) -> Decimal:
            return tax if at_subtotal else tax.quantize(self.unit, rounding=mode)

        def item_total(amount: Decimal) -> Decimal:
            # ``round_item_subtotal``: each line's amount to the cent first, unless at subtotal.
            return amount if at_subtotal else amount.quantize(self.unit, rounding=ROUND_HALF_UP)

        shipping_tax = cart_tax = subtotal_taxes = total_taxes = Decimal(0)
        cart_subtotal = cart_total = Decimal(0)
        for item in order["line_items"]:
            taxable = rate > 0 and item["tax_class"] == ""
            subtotal, total = self._line_amount(item, "subtotal"), self._line_amount(item, "total")
            sub_tax = _round_tax(subtotal * rate) if taxable else Decimal(0)
            tax = _round_tax(total * rate) if taxable else Decimal(0)
            self._keep(item, "subtotal_tax", per_item(sub_tax))
            self._keep(item, "total_tax", per_item(tax))
            self._set_taxes(item, tax if taxable else None, sub_tax)
            subtotal_taxes += sub_tax
            total_taxes += tax
            cart_tax += per_item(tax)
            cart_subtotal += item_total(subtotal)
            cart_total += item_total(total)
        fees = Decimal(0)
        for fee in order["fee_lines"]:
            taxable = rate > 0 and fee["tax_status"] == "taxable" and fee["tax_class"] == ""
            amount = self._line_amount(fee, "total")
            tax = _round_tax(amount * rate) if taxable else Decimal(0)
            self._keep(fee, "total_tax", per_item(tax))
            self._set_taxes(fee, tax if taxable else None, None)
            cart_tax += per_item(tax)
            fees += amount
        shipping = Decimal(0)
        for ship in order["shipping_lines"]:
            amount = self._line_amount(ship, "total")
            tax = _round_tax(amount * rate) if rate > 0 else Decimal(0)
            self._keep(ship, "total_tax", per_item(tax))
            self._set_taxes(ship, tax if rate > 0 else None, None)
            shipping_tax += per_item(tax)
            shipping += amount.quantize(self.unit, rounding=ROUND_HALF_UP)
        self._tax_lines(order, cart_tax, shipping_tax)
        kept = {
            "discount_total": (cart_subtotal - cart_total).quantize(self.unit, rounding=ROUND_HALF_UP),
            "discount_tax": (subtotal_taxes - total_taxes).quantize(self.unit, rounding=mode),
            "shipping_total": shipping,
            "cart_tax": cart_tax,
            "shipping_tax": shipping_tax,
            "total_tax": (cart_tax + shipping_tax).quantize(self.unit, rounding=ROUND_HALF_UP),
            "total": (cart_total + fees + shipping + cart_tax + shipping_tax).quantize(
                self.unit, rounding=ROUND_HALF_UP
            ),
        }
        for key, value in kept.items():
            self._exact_orders[(order["id"], key)] = value
            order[key] = self.money(value)

    def _set_taxes(self, item: dict[str, Any], total: Decimal | None, subtotal: Decimal | None) -> None:
        """An item's ``taxes``, one entry for the one rate (none when it is not taxed)."""
        if total is None:
            item["taxes"] = []
            return
        item["taxes"] = [self._tax_entry(total, subtotal)]
        self._exact_items[(item["id"], "tax_total")] = total
        if subtotal is not None:
            self._exact_items[(item["id"], "tax_subtotal")] = subtotal

    def _refresh(self, order: dict[str, Any]) -> None:
        """The derived flags WooCommerce computes on read."""
        status = order["status"]
        order["is_editable"] = status in EDITABLE_STATUSES
        # 10.6 counts a checkout-draft as awaiting payment (real-10.6-hpos/d02).
        payable = ("pending", "failed") if self.version == "7.8" else ("pending", "failed", "checkout-draft")
        order["needs_payment"] = status in payable and to_decimal(order["total"]) > 0
        order["needs_processing"] = any(
            item["product_id"] in self.products and not self.products[item["product_id"]]["virtual"]
            for item in order["line_items"]
        )

    # --------------------------------------------------------------- status

    def _transition(self, order: dict[str, Any], new: str) -> None:
        """Status change with its side effects, in WooCommerce's order: dates, stock (notes
        and stock emails), transactional emails, then the "status changed" note."""
        old = order["status"]
        if new == old:
            return
        order["status"] = new
        now = self.now()
        if new in PAID_STATUSES and order["date_paid"] is None:
            self._set_date(order, "date_paid", now)
        if new == "completed":
            self._set_date(order, "date_completed", now)
        extras = self.extras[order["id"]]
        if new in STOCK_REDUCING and not extras.stock_reduced:
            self._reduce_stock(order)
        elif new in STOCK_RESTORING and extras.stock_reduced:
            self._restore_stock(order)
        self._status_emails(order, old, new)
        self.add_note(
            order["id"],
            f"Order status changed from {STATUS_LABELS.get(old, old)} to {STATUS_LABELS.get(new, new)}.",
        )
        if new == "refunded":
            self._fully_refund(order)

    def _fully_refund(self, order: dict[str, Any]) -> None:
        """``wc_order_fully_refunded``, hooked on ``woocommerce_order_status_refunded``: setting
        the status refunds whatever is left, with no gateway call."""
        refunded = sum((self.refunds[r].amount for r in self.extras[order["id"]].refund_ids), Decimal(0))
        remaining = to_decimal(order["total"]) - refunded
        if remaining <= 0:
            return
        self.create_refund(
            order["id"],
            {
                "amount": str(remaining),
                "reason": "Order fully refunded.",
                "api_refund": False,
                "api_restock": False,
            },
        )
        self.add_note(
            order["id"],
            "Order status set to refunded. To return funds to the customer you will need to issue a "
            "refund through your payment gateway.",
        )

    def _payment_complete(self, order: dict[str, Any], transaction_id: str) -> bool:
        """``WC_Order::payment_complete``; only acts on an order awaiting payment."""
        if order["status"] not in ("on-hold", "pending", "failed", "cancelled"):
            return False
        if transaction_id:
            order["transaction_id"] = transaction_id
        self._refresh(order)
        target = "processing" if order["needs_processing"] else "completed"
        self._transition(order, target)
        if order["date_paid"] is None:
            self._set_date(order, "date_paid", self.now())
        return True

    def _reduce_stock(self, order: dict[str, Any]) -> None:
        changes: list[str] = []
        for item in order["line_items"]:
            product = self._stock_product(item)
            if product is None or not product["manage_stock"]:
                continue
            old = int(product["stock_quantity"])
            new = old - int(item["quantity"])
            self._set_product_stock(product, new, sold=int(item["quantity"]))
            item["meta_data"].append(
                {
                    "id": self._item_meta_id(),
                    "key": "_reduced_stock",
                    "value": str(item["quantity"]),
                    "display_key": "_reduced_stock",
                    "display_value": str(item["quantity"]),
                }
            )
            changes.append(self._stock_change(product, old, new))
            if new <= 0:
                self._email(self.admin_email, f"[{self.site_title}] Product out of stock", "no_stock", None)
            elif new <= 2:
                self._email(self.admin_email, f"[{self.site_title}] Product low in stock", "low_stock", None)
            if new < 0:
                self._email(self.admin_email, f"[{self.site_title}] Product backorder", "backorder", None)
        self.extras[order["id"]].stock_reduced = True
        if changes:
            self.add_note(order["id"], "Stock levels reduced: " + ", ".join(changes))

    def _stock_change(self, product: dict[str, Any], old: int, new: int) -> str:
        """One product in a "Stock levels reduced/increased" note (31a; real-10.6-hpos/s03)."""
        if self.version == "7.8":
            return f"{self._formatted_name(product)} {old}&rarr;{new}"
        return f"{product['name']} ({old}&rarr;{new})"

    def _restore_stock(self, order: dict[str, Any]) -> None:
        changes: list[str] = []
        for item in order["line_items"]:
            product = self._stock_product(item)
            reduced = next((m for m in item["meta_data"] if m["key"] == "_reduced_stock"), None)
            if product is None or reduced is None or not product["manage_stock"]:
                continue
            old = int(product["stock_quantity"])
            new = old + int(reduced["value"])
            self._set_product_stock(product, new, sold=-int(reduced["value"]))
            item["meta_data"].remove(reduced)
            changes.append(self._stock_change(product, old, new))
        self.extras[order["id"]].stock_reduced = False
        if changes:
            self.add_note(order["id"], "Stock levels increased: " + ", ".join(changes))

    def _restock_refunded_item(self, order: dict[str, Any], item: dict[str, Any], quantity: int) -> None:
        """``wc_restock_refunded_items``: only lines whose stock was reduced, with a note."""
        product = self._stock_product(item)
        reduced = next((m for m in item["meta_data"] if m["key"] == "_reduced_stock"), None)
        if product is None or reduced is None or not product["manage_stock"]:
            return
        old = int(product["stock_quantity"])
        self._set_product_stock(product, old + quantity, sold=-quantity)
        restocked = next((m for m in item["meta_data"] if m["key"] == "_restock_refunded_items"), None)
        previous = int(restocked["value"]) if restocked else 0
        self._apply_meta(
            item["meta_data"],
            [
                {"key": "_reduced_stock", "value": str(int(reduced["value"]) - quantity)},
                {"key": "_restock_refunded_items", "value": str(previous + quantity)},
            ],
            self._item_meta_id,
            item_meta=True,
        )
        self.add_note(order["id"], f"Item #{product['id']} stock increased from {old} to {old + quantity}.")

    def _set_product_stock(self, product: dict[str, Any], stock: int, *, sold: int) -> None:
        product["stock_quantity"] = stock
        product["stock_status"] = stock_status(stock)
        product["total_sales"] = max(0, int(product["total_sales"]) + sold)
        now = self.now()
        product["date_modified"] = now
        product["date_modified_gmt"] = now

    @staticmethod
    def _formatted_name(product: dict[str, Any]) -> str:
        identifier = product["sku"] or f"#{product['id']}"
        return f"{product['name']} ({identifier})"

    # ---------------------------------------------------------------- emails

    def _email(self, to: str, subject: str, kind: str, order_id: int | None) -> None:
        self.emails.append(
            {"to": to, "subject": subject, "type": kind, "order_id": order_id, "date": self.now()}
        )

    def _customer_email(self, order: dict[str, Any], subject: str, kind: str) -> None:
        address = order["billing"]["email"]
        if address:
            self._email(address, subject, kind, order["id"])

    def _status_emails(self, order: dict[str, Any], old: str, new: str) -> None:
        title, number = self.site_title, order["number"]
        if old in ("pending", "failed", "cancelled") and new in ("processing", "completed", "on-hold"):
            self._email(self.admin_email, f"[{title}]: New order #{number}", "new_order", order["id"])
        if new == "processing" and old in ("pending", "failed", "cancelled", "on-hold"):
            self._customer_email(order, f"Your {title} order has been received!", "customer_processing_order")
        if new == "on-hold" and old in ("pending", "failed", "cancelled"):
            self._customer_email(order, f"Your {title} order has been received!", "customer_on_hold_order")
        if new == "completed":
            self._customer_email(order, f"Your {title} order is now complete", "customer_completed_order")
        if new == "cancelled" and old in ("processing", "on-hold"):
            self._email(
                self.admin_email,
                f"[{title}]: Order #{number} has been cancelled",
                "cancelled_order",
                order["id"],
            )
        if new == "failed" and old in ("pending", "on-hold"):
            self._email(
                self.admin_email, f"[{title}]: Order #{number} has failed", "failed_order", order["id"]
            )

    # ----------------------------------------------------------------- notes

    def add_note(
        self,
        order_id: int,
        text: str,
        *,
        customer_note: bool = False,
        added_by_user: bool = False,
    ) -> dict[str, Any]:
        """Notes are comments: they never move the order's ``date_modified`` (31b)."""
        note_id = self._next_note_id
        self._next_note_id += 1
        now = self.now()
        note = {
            "id": note_id,
            "author": "admin" if added_by_user else "WooCommerce",
            "date_created": now,
            "date_created_gmt": now,
            "note": text,
            "customer_note": customer_note,
            "_links": {
                "self": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}/notes/{note_id}"}],
                "collection": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}/notes"}],
                "up": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}"}],
            },
        }
        self.extras[order_id].notes.append(note)
        if customer_note:
            order = self.orders[order_id]
            stamp = self._clock().strftime("%B %-d, %Y")
            self._customer_email(
                order, f"Note added to your {self.site_title} order from {stamp}", "customer_note"
            )
        return note

    def notes_of(self, order_id: int) -> list[dict[str, Any]]:
        """Newest first; notes of the same second in id order (31a/31c)."""
        notes = list(self.extras[order_id].notes)
        notes.sort(key=lambda n: n["id"])
        notes.sort(key=lambda n: n["date_created_gmt"], reverse=True)
        return notes

    # --------------------------------------------------------------- refunds

    def create_refund(self, order_id: int, body: dict[str, Any]) -> Refund:
        """``POST /orders/{id}/refunds``; errors carry bare-integer data like WooCommerce's."""
        order = self.orders.get(order_id)
        if order is None:
            raise WPError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404, bare_data=404)
        raw_lines = body.get("line_items")
        posted_lines: list[Any] = raw_lines if isinstance(raw_lines, list) else []
        if "amount" in body and body["amount"] not in (None, ""):
            amount = to_decimal(body["amount"])
            posted_amount = body["amount"]
            # The refund's _refund_amount meta keeps the amount as it came (real-7.8-hpos/v09a).
            amount_text = posted_amount if isinstance(posted_amount, str) else _php_float(amount)
        else:
            amount = sum(
                (
                    to_decimal(line.get("refund_total"))
                    + sum(
                        (to_decimal(t.get("refund_total")) for t in line.get("refund_tax") or []),
                        Decimal(0),
                    )
                    for line in posted_lines
                    if isinstance(line, dict)
                ),
                Decimal(0),
            )
            amount_text = _php_float(amount)
        # Only a negative amount is refused, whatever the message says: a 0.00 refund is made
        # (recorded variations/v11b ``observed``).
        if amount < 0:
            raise WPError(
                "woocommerce_rest_invalid_order_refund",
                "Refund amount must be greater than zero.",
                400,
                bare_data=400,
            )
        refunded = sum((self.refunds[r].amount for r in self.extras[order_id].refund_ids), Decimal(0))
        # wc_create_refund's $max_refund: the remainder rounded to the store's decimals
        # (real-*/m01: 8.771 of a KWD 10.005 order less 1.235 is refused, 8.770 is made).
        remaining = to_decimal(self.money(to_decimal(order["total"]) - refunded))
        if amount > remaining:
            raise WPError(
                "woocommerce_rest_cannot_create_order_refund",
                "Invalid refund amount.",
                500,
                bare_data=500,
            )
        if _flag(body.get("api_refund"), default=True):
            # api_refund defaults to true: WooCommerce asks the order's gateway to pay the money
            # back. The fake's gateways (bacs, or none) cannot, exactly like a stock store.
            message = (
                "The payment gateway for this order does not support automatic refunds."
                if order["payment_method"]
                else "The payment gateway for this order does not exist."
            )
            raise WPError("woocommerce_rest_cannot_create_order_refund", message, 500, bare_data=500)
        restock = _flag(body.get("api_restock"), default=True)
        posted_by_id: dict[int, dict[str, Any]] = {}
        for posted in posted_lines:
            if isinstance(posted, dict) and not isinstance(posted.get("id"), bool):
                posted_by_id.setdefault(_absint(posted.get("id")), posted)
        refund_lines: dict[str, list[dict[str, Any]]] = {section: [] for section in LINE_SECTIONS}
        # wc_create_refund walks the order's items by kind (products, fees, shipping), taking
        # those the request names (real-*/r01: a fee's refund line comes before shipping's).
        for section in ("line_items", "fee_lines", "shipping_lines"):
            for source in order[section]:
                posted = posted_by_id.get(source["id"])
                if posted is None:
                    continue
                quantity = int(to_decimal(posted.get("quantity"))) if section == "line_items" else 0
                total = to_decimal(posted.get("refund_total"))
                if quantity <= 0 and total <= 0:
                    continue
                refunded_item = {
                    "id": self._item_meta_id(),
                    "key": "_refunded_item_id",
                    "value": str(source["id"]),
                    "display_key": "_refunded_item_id",
                    "display_value": str(source["id"]),
                }
                if section == "shipping_lines":
                    refund_lines[section].append(
                        {
                            "id": self._item_id(),
                            "method_title": source["method_title"],
                            "method_id": source["method_id"],
                            "instance_id": source["instance_id"],
                            "total": self.money(-total),
                            "total_tax": self.money(Decimal(0)),
                            "taxes": [],
                            "meta_data": [refunded_item],
                        }
                    )
                    continue
                if section == "fee_lines":
                    refund_lines[section].append(
                        {
                            "id": self._item_id(),
                            "name": source["name"],
                            "tax_class": source["tax_class"],
                            "tax_status": source["tax_status"],
                            "amount": "",
                            "total": self.money(-total),
                            "total_tax": self.money(Decimal(0)),
                            "taxes": [],
                            "meta_data": [refunded_item],
                        }
                    )
                    continue
                refund_lines[section].append(
                    {
                        "id": self._item_id(),
                        "name": source["name"],
                        "product_id": source["product_id"],
                        "variation_id": source["variation_id"],
                        "quantity": -quantity,
                        "tax_class": "",
                        "subtotal": self.money(-total),
                        "subtotal_tax": self.money(Decimal(0)),
                        "total": self.money(-total),
                        "total_tax": self.money(Decimal(0)),
                        "taxes": [],
                        "meta_data": [refunded_item],
                        "sku": source["sku"],
                        "price": php_number(total / quantity) if quantity else 0,
                        "image": dict(source["image"]),
                        "parent_name": source["parent_name"],
                    }
                )
                if restock and quantity > 0:
                    self._restock_refunded_item(order, source, quantity)
        lines = refund_lines["line_items"]
        refund = Refund(
            id=self._post_id(),
            order_id=order_id,
            amount=amount,
            reason=str(body.get("reason") or ""),
            date=self.now(),
            refunded_by=1,
            line_items=lines,
            shipping_lines=refund_lines["shipping_lines"],
            fee_lines=refund_lines["fee_lines"],
            meta_ids=(self._meta_id(), self._meta_id()),
            full=amount == remaining,
            amount_text=amount_text,
        )
        if isinstance(body.get("meta_data"), list):
            self._apply_meta(refund.meta, body["meta_data"], self._meta_id, item_meta=False)
        self.refunds[refund.id] = refund
        self.extras[order_id].refund_ids.append(refund.id)
        order["refunds"] = [
            # "-" . wc_format_decimal(amount): a 0.00 refund reads "-0.00" (variations/v11b).
            {"id": r.id, "reason": r.reason, "total": "-" + self.money(r.amount)}
            for r in sorted(
                (self.refunds[i] for i in self.extras[order_id].refund_ids),
                key=lambda r: r.id,
                reverse=True,
            )
        ]
        title = self.site_title
        if amount == remaining:
            self._customer_email(
                order,
                f"Your {title} order #{order['number']} has been refunded",
                "customer_refunded_order",
            )
            self._transition(order, "refunded")
        else:
            self._customer_email(
                order,
                f"Your {title} order #{order['number']} has been partially refunded",
                "customer_refunded_order",
            )
        self._set_date(order, "date_modified", self.now())
        self._refresh(order)
        self.touch(order_id)
        self._on_event("updated", order_id)
        return refund

    def refund_view(self, refund: Refund, dp: int | None = None) -> dict[str, Any]:
        """A refund resource; on HPOS 7.8.2 reads ``amount``/``reason`` back empty (32a/32f),
        wherever it is read from the refunds routes (real-7.8-hpos/v09a, v09c, v09d; the
        order's ``refunds[]`` is right). 10.6 reads them right and keeps a ``_refund_type``
        meta instead (real-10.6-hpos/v09a, v11a)."""
        base = f"{self.base_url}/wp-json/wc/v3/orders/{refund.order_id}"
        if self.version != "7.8":
            return {
                "id": refund.id,
                "date_created": refund.date,
                "date_created_gmt": refund.date,
                "amount": self.money(refund.amount, dp),
                "reason": refund.reason,
                "refunded_by": refund.refunded_by,
                "refunded_payment": False,
                "meta_data": [
                    {
                        "id": refund.meta_ids[0],
                        "key": "_refund_type",
                        "value": "full" if refund.full else "partial",
                    },
                    *copy.deepcopy(refund.meta),
                ],
                "line_items": [self._present_line(line) for line in refund.line_items],
                "shipping_lines": copy.deepcopy([self._present_shipping(x) for x in refund.shipping_lines]),
                "tax_lines": [],
                "fee_lines": copy.deepcopy(refund.fee_lines),
                "_links": {
                    "self": [{"href": f"{base}/refunds/{refund.id}"}],
                    "collection": [{"href": f"{base}/refunds"}],
                    "up": [{"href": base}],
                },
            }
        hpos = self.storage == "hpos"
        return {
            "id": refund.id,
            "date_created": refund.date,
            "date_created_gmt": refund.date,
            "amount": self.money(Decimal(0) if hpos else refund.amount, dp),
            "reason": "" if hpos else refund.reason,
            "refunded_by": 0 if hpos else refund.refunded_by,
            "refunded_payment": False,
            "meta_data": (
                [
                    {"id": refund.meta_ids[0], "key": "_refund_amount", "value": refund.amount_text},
                    {"id": refund.meta_ids[1], "key": "_refund_reason", "value": refund.reason},
                ]
                if hpos
                else []
            )
            + copy.deepcopy(refund.meta),
            "line_items": copy.deepcopy(refund.line_items),
            "shipping_lines": copy.deepcopy(refund.shipping_lines),
            "tax_lines": [],
            "fee_lines": copy.deepcopy(refund.fee_lines),
            "_links": {
                "self": [{"href": f"{base}/refunds/{refund.id}"}],
                "collection": [{"href": f"{base}/refunds"}],
                "up": [{"href": base}],
            },
        }

    # -------------------------------------------------------- presentation

    def _present_line(self, item: dict[str, Any]) -> dict[str, Any]:
        """A line item as this store's version shows it: 10.6 adds ``global_unique_id``."""
        if self.version == "7.8":
            return item
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key == "price":
                out["global_unique_id"] = ""
            out[key] = value
        return out

    def _present_shipping(self, line: dict[str, Any]) -> dict[str, Any]:
        """A shipping line as this store's version shows it: 10.6 adds ``tax_status``."""
        if self.version == "7.8":
            return line
        shown: dict[str, Any] = {}
        for key, value in line.items():
            if key == "meta_data":
                shown["tax_status"] = "taxable"
            shown[key] = value
        return shown

    def present_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order as this store's version answers it (real-10.6-hpos/s02): 10.6 adds
        ``global_unique_id`` to line items, ``tax_status`` to shipping lines, and
        ``email_templates`` and WordPress 6.8's ``targetHints`` to the links. A 7.8 order is
        returned as is."""
        if self.version == "7.8":
            return order
        out = dict(order)
        out["line_items"] = [self._present_line(item) for item in order["line_items"]]
        out["shipping_lines"] = [self._present_shipping(line) for line in order["shipping_lines"]]
        links = order.get("_links")
        if links and "self" in links:
            self_url = links["self"][0]["href"]
            out["_links"] = {
                **links,
                "email_templates": [{"embeddable": True, "href": f"{self_url}/actions/email_templates"}],
            }
        return with_target_hints(out)

    def present_product(self, product: dict[str, Any]) -> dict[str, Any]:
        """A product on the products route; 10.6 adds brands, GTIN and password fields."""
        if self.version == "7.8":
            return product
        return {
            **product,
            "attributes": with_attribute_slugs(product["attributes"]),
            "brands": [],
            "global_unique_id": "",
            "post_password": "",
        }

    def edit_while_listed(self, order_id: int) -> None:
        """The shop edits an order a client has just listed (the ``edit_while_listing`` knob):
        saved from wp-admin, so ``date_modified`` moves on either storage, and webhooks fire."""
        order = self.orders.get(order_id)
        if order is None:
            return
        count = 1 + next((int(m["value"]) for m in order["meta_data"] if m["key"] == EDIT_META_KEY), 0)
        self.update_order(order_id, {"meta_data": [{"key": EDIT_META_KEY, "value": str(count)}]}, admin=True)

    # ------------------------------------------------------------ checkout

    def place_order(
        self,
        items: list[tuple[str, int]],
        *,
        status: str = "processing",
        billing: dict[str, str] | None = None,
        customer_note: str = "",
        meta: dict[str, str] | None = None,
        shipping_total: str = "5.00",
    ) -> dict[str, Any]:
        """A customer checkout on the storefront."""
        lines: list[dict[str, Any]] = []
        for sku, quantity in items:
            if sku not in self.sku_index:
                raise KeyError(f"unknown SKU {sku!r} in store {self.name!r}")
            lines.append({"sku": sku, "quantity": quantity})
        address = dict(DEFAULT_BILLING if billing is None else {**DEFAULT_BILLING, **billing})
        body: dict[str, Any] = {
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "billing": address,
            "shipping": {k: v for k, v in address.items() if k != "email"},
            "customer_note": customer_note,
            "line_items": lines,
            "meta_data": [{"key": k, "value": v} for k, v in (meta or {}).items()],
            "status": status,
        }
        if to_decimal(shipping_total) != 0:
            body["shipping_lines"] = [
                {"method_id": "flat_rate", "method_title": "Flat rate", "total": shipping_total}
            ]
        result = self.create_order(body, created_via="checkout")
        order = result.order
        order["customer_ip_address"] = "127.0.0.1"
        order["customer_user_agent"] = "Mozilla/5.0 (wcsync fake checkout)"
        return order

    def add_item_meta(self, order_id: int, item_id: int, entries: list[tuple[str, Any]]) -> dict[str, Any]:
        """A plugin's ``$item->add_meta_data($key, $value)`` for each entry, then a save: how an
        add-on writes one key twice on a line, which no REST write can (each REST entry is an
        ``update_meta_data``)."""
        order = self.get_order(order_id)
        found = self._find_item(order, item_id)
        if found is None:
            raise invalid_item_id()
        item = order[found[0]][found[1]]
        for key, value in entries:
            item["meta_data"].append(
                {
                    "id": self._item_meta_id(),
                    "key": key,
                    "value": value,
                    "display_key": key,
                    "display_value": value,
                }
            )
        self._set_date(order, "date_modified", self.now())
        self.touch(order_id)
        self._on_event("updated", order_id)
        return order

    def find_by_meta(self, key: str, value: Any) -> list[dict[str, Any]]:
        return [
            order
            for order in self.orders.values()
            if any(m["key"] == key and m["value"] == value for m in order["meta_data"])
        ]


def _absint(value: Any) -> int:
    """PHP ``absint()``: garbage is 0."""
    try:
        return abs(int(to_decimal(value)))
    except (ValueError, ArithmeticError):
        return 0


def _numeric(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value))


def _meta_int(item: dict[str, Any], key: str) -> int:
    entry = next((m for m in item["meta_data"] if m["key"] == key), None)
    return int(to_decimal(entry["value"])) if entry else 0


def _round_tax(value: Decimal) -> Decimal:
    """WooCommerce's rounding precision: six places, half away from zero."""
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _php_float(value: Decimal) -> str:
    """A PHP float as a string, the way item ``taxes`` carry it: ``"5.7"``, ``"1"``."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


# WordPress 6.8 says which methods a resource's own route takes (real-10.6-hpos/*).
_TARGET_HINTS = (
    (re.compile(r"/orders/\d+/(notes|refunds)/\d+$"), ["GET", "DELETE"]),
    (
        re.compile(r"/(orders|products|webhooks)/\d+(/variations/\d+)?$"),
        ["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
)


def with_target_hints(body: Any) -> Any:
    """``targetHints`` on every ``self`` link of a response body (WordPress 6.8, 10.6 line)."""
    if isinstance(body, list):
        return [with_target_hints(item) for item in body]
    if not isinstance(body, dict):
        return body
    links = body.get("_links")
    if isinstance(links, dict) and links.get("self") and "targetHints" not in links["self"][0]:
        href = str(links["self"][0].get("href", ""))
        allow = next((methods for pattern, methods in _TARGET_HINTS if pattern.search(href)), None)
        if allow is not None:
            body = {**body, "_links": {**links, "self": [{"href": href, "targetHints": {"allow": allow}}]}}
    if any(key in body for key in ("create", "update", "delete")) and "_links" not in body:
        return {k: with_target_hints(v) for k, v in body.items()}
    return body
