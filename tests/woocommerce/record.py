"""Record real WooCommerce REST exchanges into ``tests/woocommerce/recorded/real-*/``.

Not part of ``make test``: it needs running WooCommerce stores (the realwc kit builds them on
loopback) and writes to them. Standard library and httpx only. Usage::

    python tests/woocommerce/record.py --stores /tmp/h2-stores/stores.json \
        [--store main --store sub2] [--group lines --group drafts] [--hook-port 28084]

Each store of ``stores.json`` (the realwc kit's format: name, base_url, consumer_key,
consumer_secret, hpos, woocommerce, products) is recorded into ``real-<line>-<storage>/``, for
example ``real-7.8-posts``. Groups: ``lines`` (removing and updating lines), ``variations``
(variable products, line meta, line refunds), ``drafts`` (failed creates; needs a free loopback
port for a webhook receiver), ``listing`` (keyset discovery while orders are edited), ``taxes``
(turns taxes on for the run, then off again) and ``shapes`` (a few plain exchanges to compare
object shapes). The files have the shape described in ``recorded/README.md``; the consumer key
and secret never reach them.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
KEPT_HEADERS = ("x-wp-total", "x-wp-totalpages", "link", "content-type", "retry-after")
PRODUCT_KEYS = (
    "id",
    "name",
    "type",
    "status",
    "sku",
    "parent_id",
    "price",
    "regular_price",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "attributes",
    "default_attributes",
    "variations",
)
PRODUCT_TRIM_NOTE = "product bodies trimmed to " + ", ".join(PRODUCT_KEYS)
MISSING_ITEM_ID = 99999999


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def folder_of(store: dict[str, Any]) -> str:
    line = ".".join(str(store["woocommerce"]).split(".")[:2])
    return f"real-{line}-{'hpos' if store['hpos'] else 'posts'}"


def trim_product(product: Any) -> Any:
    if isinstance(product, dict) and "id" in product and "code" not in product:
        return {k: product[k] for k in PRODUCT_KEYS if k in product}
    return product


def lines_summary(order: dict[str, Any]) -> dict[str, Any]:
    """The parts of an order a line test looks at."""
    return {
        "status": order.get("status"),
        "total": order.get("total"),
        "date_modified_gmt": order.get("date_modified_gmt"),
        "line_items": [
            [i["id"], i.get("sku"), i["quantity"], i["total"]] for i in order.get("line_items", [])
        ],
        "shipping_lines": [[i["id"], i["method_id"], i["total"]] for i in order.get("shipping_lines", [])],
        "fee_lines": [[i["id"], i["name"], i["total"]] for i in order.get("fee_lines", [])],
    }


def lines_of(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list(order.get("line_items", []))


def left_to_refund(order: dict[str, Any]) -> float:
    return float(order["total"]) - sum(-float(x["total"]) for x in order["refunds"])


class Recorder:
    """Sends requests to one store and writes the ones that are cases."""

    def __init__(
        self,
        store: dict[str, Any],
        out: Path,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        quiet: bool = False,
    ) -> None:
        """``http``, ``sleep`` and ``now`` let the same cases run against the fake store
        (tests/testing/replay.py), whose clock a test moves instead of waiting."""
        self.store = store
        self.folder = out / folder_of(store)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.skus: dict[str, int] = dict(store["products"])
        self.version = str(store["woocommerce"])
        self.line = ".".join(self.version.split(".")[:2])
        self.http = http or httpx.Client(
            base_url=str(store["base_url"]).rstrip("/"),
            auth=(store["consumer_key"], store["consumer_secret"]),
            timeout=120,
            headers={"User-Agent": "wcsync-recorder/1"},
        )
        self.sleep = sleep
        self.now = now
        self.quiet = quiet
        self.written: list[str] = []

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ requests

    def call(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        """One request that is not recorded (setup, probes)."""
        return self.http.request(method, f"/wp-json/wc/v3{path}", params=query, json=body)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            return {"status": response.status_code, "text": response.text[:500]}

    def order(self, order_id: int) -> dict[str, Any]:
        return dict(self.json("GET", f"/orders/{order_id}"))

    def record(
        self,
        case: str,
        what: str,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        setup: list[str] | None = None,
        finding: Callable[[httpx.Response, Any], str] | None = None,
        observed: Callable[[Any], dict[str, Any]] | None = None,
        trim: Callable[[Any], Any] | None = None,
        trim_note: str | None = None,
    ) -> Any:
        """Send one request, write it as ``<case>.json`` and return the parsed body."""
        started = time.perf_counter()
        response = self.call(method, path, query=query, body=body)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = response.text
        kept = trim(parsed) if trim is not None else parsed
        record: dict[str, Any] = {
            "case": case,
            "what": what,
            "store": {"woocommerce": self.version, "storage": "hpos" if self.store["hpos"] else "posts"},
        }
        if setup:
            record["setup"] = setup
        record["request"] = {
            "method": method,
            "path": f"/wp-json/wc/v3{path}",
            "query": {k: str(v) for k, v in (query or {}).items()},
            "headers": {
                **({"content-type": "application/json"} if body is not None else {}),
                "auth": "basic",
            },
            "body": body,
        }
        record["response"] = {
            "status": response.status_code,
            "headers": {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers},
            "body": kept,
        }
        record["elapsed_ms"] = elapsed
        if finding is not None:
            record["finding"] = finding(response, parsed)
        if observed is not None:
            record["observed"] = observed(parsed)
        if trim is not None:
            record["trimmed"] = True
            record["trim_note"] = trim_note or "trimmed"
        path_out = self.folder / f"{case}.json"
        path_out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        self.written.append(case)
        self.say(f"  {self.store['name']} {case}: {response.status_code} {record.get('finding', '')}")
        return parsed

    # -------------------------------------------------------------------- helpers

    def new_order(self, *, status: str = "pending", meta: str | None = None) -> dict[str, Any]:
        """Mug x2, sticker x1, flat-rate shipping 5.00, a 2.50 fee: 29.00 with taxes off."""
        body = self.order_body(status=status, meta=meta)
        created = self.json("POST", "/orders", body=body)
        assert "id" in created, created
        return dict(created)

    def order_body(self, *, status: str = "pending", meta: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": status,
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "billing": {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "country": "GB",
                "email": "ada@example.test",
            },
            "line_items": [
                {"product_id": self.skus["SKU-MUG-001"], "quantity": 2},
                {"product_id": self.skus["SKU-STICKER"], "quantity": 1},
            ],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
            "fee_lines": [{"name": "Gift wrap", "total": "2.50"}],
        }
        if meta is not None:
            body["meta_data"] = [{"key": "_wcsync_origin", "value": meta}]
        return body

    def stock(self, sku: str) -> Any:
        return self.json("GET", f"/products/{self.skus[sku]}").get("stock_quantity")


def status_finding(response: httpx.Response, body: Any) -> str:
    if isinstance(body, dict) and "code" in body:
        return f"{response.status_code} {body['code']}: {body.get('message')}"
    if isinstance(body, dict) and "line_items" in body:
        summary = lines_summary(body)
        return (
            f"{response.status_code}; total {summary['total']}; {len(summary['line_items'])} line item(s), "
            f"{len(summary['shipping_lines'])} shipping, {len(summary['fee_lines'])} fee"
        )
    return str(response.status_code)


# ------------------------------------------------------------------------ lines


def record_lines(rec: Recorder) -> None:
    """Removing lines (quantity 0, a null name/method), ids the order no longer has, partial saves."""
    rec.say(f"{rec.store['name']}: lines")
    body = rec.order_body()
    a = rec.record(
        "l01-create-order",
        "POST /orders (pending): mug x2, sticker x1, flat_rate shipping 5.00, fee 2.50",
        "POST",
        "/orders",
        body=body,
        finding=status_finding,
    )
    oid = a["id"]
    mug, sticker = a["line_items"][0]["id"], a["line_items"][1]["id"]
    ship, fee = a["shipping_lines"][0]["id"], a["fee_lines"][0]["id"]
    rec.record(
        "l02-remove-existing-lines",
        "PUT line_items [{id: mug, quantity: 0}], shipping_lines [{id, method_id: null}], "
        "fee_lines [{id, name: null}]",
        "PUT",
        f"/orders/{oid}",
        body={
            "line_items": [{"id": mug, "quantity": 0}],
            "shipping_lines": [{"id": ship, "method_id": None}],
            "fee_lines": [{"id": fee, "name": None}],
        },
        setup=[f"l01: order {oid} (lines {mug}, {sticker}; shipping {ship}; fee {fee})"],
        finding=status_finding,
    )
    after_l02 = [f"l02 removed lines {mug}, {ship} and {fee} of order {oid}"]
    for case, what, section, item in (
        (
            "l03a-remove-missing-line-item",
            "line_items [{id: <removed line>, quantity: 0}]",
            "line_items",
            {"id": mug, "quantity": 0},
        ),
        (
            "l03b-remove-missing-shipping-line",
            "shipping_lines [{id: <removed line>, method_id: null}]",
            "shipping_lines",
            {"id": ship, "method_id": None},
        ),
        (
            "l03c-remove-missing-fee-line",
            "fee_lines [{id: <removed line>, name: null}]",
            "fee_lines",
            {"id": fee, "name": None},
        ),
        (
            "l03d-remove-unknown-item-id",
            f"line_items [{{id: {MISSING_ITEM_ID}, quantity: 0}}]",
            "line_items",
            {"id": MISSING_ITEM_ID, "quantity": 0},
        ),
    ):
        rec.record(
            case,
            f"PUT {what}: an id the order no longer has (or never had)",
            "PUT",
            f"/orders/{oid}",
            body={section: [item]},
            setup=after_l02,
            finding=status_finding,
            observed=lambda _b: {"get_after": lines_summary(rec.order(oid))},
        )
    other = rec.new_order()
    other_line = other["line_items"][0]["id"]
    rec.record(
        "l03e-remove-line-of-another-order",
        "PUT line_items [{id: <a line of ANOTHER order>, quantity: 0}]",
        "PUT",
        f"/orders/{oid}",
        body={"line_items": [{"id": other_line, "quantity": 0}]},
        setup=[*after_l02, f"order {other['id']} (pending, the same 4 lines; its mug line is {other_line})"],
        finding=status_finding,
        observed=lambda _b: {
            "get_after": lines_summary(rec.order(oid)),
            "other_order_after": lines_summary(rec.order(other["id"])),
        },
    )

    b = rec.new_order()
    bid = b["id"]
    b_mug, b_sticker = b["line_items"][0]["id"], b["line_items"][1]["id"]
    b_ship, b_fee = b["shipping_lines"][0]["id"], b["fee_lines"][0]["id"]
    b_setup = [
        f"order {bid} (pending; mug line {b_mug}, sticker line {b_sticker}, shipping {b_ship}, fee {b_fee})"
    ]
    rec.record(
        "l04a-remove-line-by-product-id-null",
        "PUT line_items [{id: sticker, product_id: null}]",
        "PUT",
        f"/orders/{bid}",
        body={"line_items": [{"id": b_sticker, "product_id": None}]},
        setup=b_setup,
        finding=status_finding,
    )
    rec.record(
        "l04b-remove-shipping-by-method-title-null",
        "PUT shipping_lines [{id, method_title: null}]",
        "PUT",
        f"/orders/{bid}",
        body={"shipping_lines": [{"id": b_ship, "method_title": None}]},
        setup=[*b_setup, "after l04a"],
        finding=status_finding,
    )
    rec.record(
        "l04c-remove-across-sections",
        "PUT fee_lines [{id: <the mug LINE ITEM's id>, name: null}]: "
        "a removal names an item of another section",
        "PUT",
        f"/orders/{bid}",
        body={"fee_lines": [{"id": b_mug, "name": None}]},
        setup=[*b_setup, "after l04b"],
        finding=status_finding,
    )
    c = rec.new_order()
    cid = c["id"]
    c_sticker = c["line_items"][1]["id"]
    rec.record(
        "l04d-remove-quantity-string-zero",
        'PUT line_items [{id: sticker, quantity: "0"}] (a string)',
        "PUT",
        f"/orders/{cid}",
        body={"line_items": [{"id": c_sticker, "quantity": "0"}]},
        setup=[f"order {cid} (pending; sticker line {c_sticker})"],
        finding=status_finding,
    )
    rec.record(
        "l05-quantity-zero-without-id",
        "PUT line_items [{product_id: mug, quantity: 0}] (no id)",
        "PUT",
        f"/orders/{cid}",
        body={"line_items": [{"product_id": rec.skus["SKU-MUG-001"], "quantity": 0}]},
        setup=[f"order {cid} after l04d"],
        finding=status_finding,
        observed=lambda _b: {"get_after": lines_summary(rec.order(cid))},
    )

    d = rec.new_order()
    did = d["id"]
    d_mug = d["line_items"][0]["id"]
    d_setup = [f"order {did} (pending; mug line {d_mug} quantity 2, total 19.00; order total 29.00)"]
    rec.record(
        "l06a-update-unknown-line-id",
        f"PUT line_items [{{id: {MISSING_ITEM_ID}, quantity: 1}}]",
        "PUT",
        f"/orders/{did}",
        body={"line_items": [{"id": MISSING_ITEM_ID, "quantity": 1}]},
        setup=d_setup,
        finding=status_finding,
        observed=lambda _b: {"get_after": lines_summary(rec.order(did))},
    )
    rec.sleep(1.1)
    rec.record(
        "l06b-update-existing-then-unknown",
        "PUT line_items [{id: mug, quantity: 5, subtotal/total 47.50}, {id: <missing>, quantity: 1}]",
        "PUT",
        f"/orders/{did}",
        body={
            "line_items": [
                {"id": d_mug, "quantity": 5, "subtotal": "47.50", "total": "47.50"},
                {"id": MISSING_ITEM_ID, "quantity": 1},
            ]
        },
        setup=d_setup,
        finding=status_finding,
        observed=lambda _b: {"get_after": lines_summary(rec.order(did))},
    )
    rec.record(
        "l06c-remove-then-unknown",
        "PUT line_items [{id: sticker, quantity: 0}, {id: <missing>, quantity: 1}]",
        "PUT",
        f"/orders/{did}",
        body={
            "line_items": [
                {"id": d["line_items"][1]["id"], "quantity": 0},
                {"id": MISSING_ITEM_ID, "quantity": 1},
            ]
        },
        setup=[*d_setup, "after l06b"],
        finding=status_finding,
        observed=lambda _b: {"get_after": lines_summary(rec.order(did))},
    )
    rec.sleep(1.1)
    rec.record(
        "l06d-coupon-error-on-update",
        'PUT line_items [{id: sticker, quantity: 3, total 7.50}] + coupon_lines [{code: "no-such-coupon"}]',
        "PUT",
        f"/orders/{did}",
        body={
            "line_items": [
                {"id": d["line_items"][1]["id"], "quantity": 3, "subtotal": "7.50", "total": "7.50"}
            ],
            "billing": {"city": "Paris"},
            "meta_data": [{"key": "_probe", "value": "l06d"}],
            "status": "on-hold",
            "coupon_lines": [{"code": "no-such-coupon"}],
        },
        setup=[*d_setup, "after l06c"],
        finding=status_finding,
        observed=lambda _b: {
            "get_after": {
                **lines_summary(got := rec.order(did)),
                "billing_city": got["billing"]["city"],
                "meta": [[m["key"], m["value"]] for m in got["meta_data"]],
            }
        },
    )

    e = rec.new_order()
    eid = e["id"]
    e_ship = e["shipping_lines"][0]["id"]
    resend = {
        "shipping_lines": [
            {"id": e_ship, "method_id": None},
            {"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"},
        ]
    }
    e_setup = [f"order {eid} (pending; shipping line {e_ship} 5.00; total 29.00)"]
    rec.record(
        "l07a-replace-shipping",
        "PUT shipping_lines [{id: old, method_id: null}, {method_id: flat_rate, total: 5.00}]: "
        "replace the line",
        "PUT",
        f"/orders/{eid}",
        body=resend,
        setup=e_setup,
        finding=status_finding,
    )
    rec.record(
        "l07b-replace-shipping-resent",
        "the same PUT again (a retry after a lost reply): the old id is gone now",
        "PUT",
        f"/orders/{eid}",
        body=resend,
        setup=[*e_setup, "after l07a"],
        finding=status_finding,
        observed=lambda _b: {"get_after": lines_summary(rec.order(eid))},
    )
    rec.record(
        "l08-batch-remove-missing",
        "POST /orders/batch update: [{id: E, shipping_lines [{id: <gone>, method_id: null}]}, "
        "{id: E, fee_lines [{id: fee, name: null}]}]",
        "POST",
        "/orders/batch",
        body={
            "update": [
                {"id": eid, "shipping_lines": [{"id": e_ship, "method_id": None}]},
                {"id": eid, "fee_lines": [{"id": e["fee_lines"][0]["id"], "name": None}]},
            ]
        },
        setup=[*e_setup, "after l07b"],
        finding=lambda r, body: (
            f"{r.status_code}; "
            + ", ".join(
                (item["error"]["code"] if "error" in item else f"order {item['id']} total {item['total']}")
                for item in body.get("update", [])
            )
        ),
        observed=lambda _b: {"get_after": lines_summary(rec.order(eid))},
    )

    h = rec.new_order()
    h_line = h["line_items"][0]["id"]
    rec.record(
        "l08b-batch-quantity-string-zero",
        'POST /orders/batch update [{id, line_items [{id: mug, quantity: "0"}]}]: '
        "a batch item is not sanitised",
        "POST",
        "/orders/batch",
        body={"update": [{"id": h["id"], "line_items": [{"id": h_line, "quantity": "0"}]}]},
        setup=[f"order {h['id']} (pending; mug line {h_line} quantity 2)"],
        finding=lambda r, body: (
            f"{r.status_code}; "
            + ", ".join(
                (item["error"]["code"] if "error" in item else f"lines {lines_summary(item)['line_items']}")
                for item in body.get("update", [])
            )
        ),
        observed=lambda _b: {"get_after": lines_summary(rec.order(h["id"]))},
    )
    j = rec.new_order()
    rec.sleep(1.1)
    rec.record(
        "l11-date-modified-after-line-edit",
        "PUT line_items [{id: mug, quantity 3, subtotal/total 28.50}] a second after the create",
        "PUT",
        f"/orders/{j['id']}",
        body={
            "line_items": [
                {"id": j["line_items"][0]["id"], "quantity": 3, "subtotal": "28.50", "total": "28.50"}
            ]
        },
        setup=[f"order {j['id']} (pending), created at {j['date_modified_gmt']}"],
        finding=lambda r, b: (
            f"{r.status_code}; date_modified_gmt {j['date_modified_gmt']} -> {b.get('date_modified_gmt')}"
        ),
        observed=lambda b: {"date_modified_moved": b.get("date_modified_gmt") != j["date_modified_gmt"]},
    )

    f = rec.new_order(status="processing")
    fid = f["id"]
    stock_before = rec.stock("SKU-MUG-001")
    rec.record(
        "l09-remove-line-processing-order",
        "PUT line_items [{id: mug, quantity: 0}] on a processing order (stock was reduced at creation)",
        "PUT",
        f"/orders/{fid}",
        body={"line_items": [{"id": f["line_items"][0]["id"], "quantity": 0}]},
        setup=[f"order {fid} (processing; mug x2 reduced the mug's stock)", f"mug stock {stock_before}"],
        finding=status_finding,
        observed=lambda _b: {
            "mug_stock_before": stock_before,
            "mug_stock_after": rec.stock("SKU-MUG-001"),
            "notes": [n["note"] for n in rec.json("GET", f"/orders/{fid}/notes")],
        },
    )
    g = rec.new_order(status="processing")
    gid = g["id"]
    stock_before_g = rec.stock("SKU-MUG-001")
    rec.record(
        "l10-change-quantity-processing-order",
        "PUT line_items [{id: mug, quantity: 3, subtotal/total 28.50}] on a processing order",
        "PUT",
        f"/orders/{gid}",
        body={
            "line_items": [
                {"id": g["line_items"][0]["id"], "quantity": 3, "subtotal": "28.50", "total": "28.50"}
            ]
        },
        setup=[f"order {gid} (processing; mug x2)", f"mug stock {stock_before_g}"],
        finding=status_finding,
        observed=lambda body: {
            "mug_stock_before": stock_before_g,
            "mug_stock_after": rec.stock("SKU-MUG-001"),
            "mug_line_meta": [[m["key"], m["value"]] for m in body["line_items"][0]["meta_data"]]
            if "line_items" in body
            else None,
            "notes": [n["note"] for n in rec.json("GET", f"/orders/{gid}/notes")],
        },
    )


# ------------------------------------------------------------------- variations


def record_variations(rec: Recorder) -> None:
    """A variable product, its variations, finding them, ordering them, refunding a line."""
    rec.say(f"{rec.store['name']}: variations")
    existing = rec.json("GET", "/products", query={"sku": "SKU-POLO"})
    for product in existing if isinstance(existing, list) else []:
        rec.call("DELETE", f"/products/{product['id']}", query={"force": "true"})
    parent = rec.record(
        "v01-create-variable-product",
        "POST /products type variable, sku SKU-POLO, custom attribute Size [S, M] for variations",
        "POST",
        "/products",
        body={
            "name": "Polo variable",
            "type": "variable",
            "sku": "SKU-POLO",
            "attributes": [{"name": "Size", "options": ["S", "M"], "variation": True, "visible": True}],
        },
        finding=lambda r, b: (
            f"{r.status_code}; type {b.get('type')}, price {b.get('price')!r}, "
            f"variations {b.get('variations')}"
        ),
        trim=trim_product,
        trim_note=PRODUCT_TRIM_NOTE,
    )
    pid = parent["id"]
    var_ids: dict[str, int] = {}
    for case, size, price in (
        ("v02a-create-variation-s", "S", "20.00"),
        ("v02b-create-variation-m", "M", "22.00"),
    ):
        made = rec.record(
            case,
            f"POST /products/{{parent}}/variations sku SKU-POLO-{size}, regular_price {price}, stock 50",
            "POST",
            f"/products/{pid}/variations",
            body={
                "sku": f"SKU-POLO-{size}",
                "regular_price": price,
                "manage_stock": True,
                "stock_quantity": 50,
                "attributes": [{"name": "Size", "option": size}],
            },
            setup=[f"v01: parent {pid}"],
            finding=lambda r, b: f"{r.status_code}; id {b.get('id')}, has parent_id key: {'parent_id' in b}",
            trim=trim_product,
            trim_note=PRODUCT_TRIM_NOTE,
        )
        var_ids[size] = made["id"]
    setup = [f"parent {pid} (SKU-POLO), variations S {var_ids['S']} and M {var_ids['M']}"]

    def found(r: httpx.Response, body: Any) -> str:
        rows = [(p.get("id"), p.get("type"), p.get("sku")) for p in body] if isinstance(body, list) else body
        return f"{r.status_code}; X-WP-Total {r.headers.get('x-wp-total')}; {rows}"

    def trim_list(body: Any) -> Any:
        return [trim_product(p) for p in body] if isinstance(body, list) else body

    rec.record(
        "v03a-products-by-variation-sku",
        "GET /products?sku=SKU-POLO-M",
        "GET",
        "/products",
        query={"sku": "SKU-POLO-M"},
        setup=setup,
        finding=found,
        trim=trim_list,
        trim_note=PRODUCT_TRIM_NOTE,
        observed=lambda _b: {"parent_after_variations": trim_product(rec.json("GET", f"/products/{pid}"))},
    )
    rec.record(
        "v03b-products-by-sku-list",
        "GET /products?sku=SKU-MUG-001,SKU-POLO-M",
        "GET",
        "/products",
        query={"sku": "SKU-MUG-001,SKU-POLO-M"},
        setup=setup,
        finding=found,
        trim=trim_list,
        trim_note=PRODUCT_TRIM_NOTE,
    )
    rec.record(
        "v04-products-by-parent-sku",
        "GET /products?sku=SKU-POLO",
        "GET",
        "/products",
        query={"sku": "SKU-POLO"},
        setup=setup,
        finding=found,
    )
    rec.record(
        "v04b-products-list",
        "GET /products?per_page=100 (no filter): what a catalogue walk sees",
        "GET",
        "/products",
        query={"per_page": "100"},
        setup=setup,
        finding=found,
        trim=trim_list,
        trim_note=PRODUCT_TRIM_NOTE,
    )
    rec.record(
        "v05a-variations-list",
        "GET /products/{parent}/variations",
        "GET",
        f"/products/{pid}/variations",
        setup=setup,
        finding=found,
        trim=trim_list,
        trim_note=PRODUCT_TRIM_NOTE,
    )
    rec.record(
        "v05b-get-variation-on-products-route",
        "GET /products/{variation id}",
        "GET",
        f"/products/{var_ids['M']}",
        setup=setup,
        finding=lambda r, b: f"{r.status_code}; type {b.get('type')}, parent_id {b.get('parent_id')}",
    )
    rec.record(
        "v05d-get-variation-on-variations-route",
        "GET /products/{parent}/variations/{variation id} (whole body)",
        "GET",
        f"/products/{pid}/variations/{var_ids['M']}",
        setup=setup,
        finding=lambda r, b: f"{r.status_code}; keys {sorted(b)}",
    )
    rec.record(
        "v05c-variations-by-sku",
        "GET /products/{parent}/variations?sku=SKU-POLO-M",
        "GET",
        f"/products/{pid}/variations",
        query={"sku": "SKU-POLO-M"},
        setup=setup,
        finding=found,
        trim=trim_list,
        trim_note=PRODUCT_TRIM_NOTE,
    )

    def line_finding(r: httpx.Response, body: Any) -> str:
        if "line_items" not in body:
            return status_finding(r, body)
        line = body["line_items"][0]
        return (
            f"{r.status_code}; line product_id {line['product_id']}, variation_id {line['variation_id']}, "
            f"sku {line['sku']}, name {line['name']!r}, parent_name {line['parent_name']!r}, "
            f"total {line['total']}, "
            f"meta {[(m['key'], m['value'], m['display_key']) for m in line['meta_data']]}"
        )

    for case, what, line in (
        (
            "v06a-order-parent-plus-variation-id",
            "line {product_id: parent, variation_id: M, quantity: 2}",
            {"product_id": pid, "variation_id": var_ids["M"], "quantity": 2},
        ),
        (
            "v06b-order-variation-id-as-product-id",
            "line {product_id: <variation M>, quantity: 2}",
            {"product_id": var_ids["M"], "quantity": 2},
        ),
        (
            "v06c-order-variation-sku-only",
            'line {sku: "SKU-POLO-M", quantity: 2}',
            {"sku": "SKU-POLO-M", "quantity": 2},
        ),
    ):
        rec.record(
            case,
            f"POST /orders (pending) {what}",
            "POST",
            "/orders",
            body={"status": "pending", "line_items": [line]},
            setup=setup,
            finding=line_finding,
        )
    meta_order = rec.record(
        "v07-create-line-item-meta",
        "POST /orders (processing): mug with meta Engraving: Ada and a private _wcsync_line meta, "
        "variation S, "
        "shipping 4.00, fee 2.50",
        "POST",
        "/orders",
        body={
            "status": "processing",
            "payment_method": "bacs",
            "line_items": [
                {
                    "product_id": rec.skus["SKU-MUG-001"],
                    "quantity": 1,
                    "meta_data": [
                        {"key": "Engraving", "value": "Ada"},
                        {"key": "_wcsync_line", "value": "main:1"},
                    ],
                },
                {"product_id": pid, "variation_id": var_ids["S"], "quantity": 1},
            ],
            "shipping_lines": [
                {
                    "method_id": "flat_rate",
                    "method_title": "Flat rate",
                    "instance_id": "3",
                    "total": "4.00",
                    "meta_data": [
                        {"key": "_wcsync_line", "value": "main:2"},
                        {"key": "Items", "value": "Mug &times; 1"},
                    ],
                }
            ],
            "fee_lines": [
                {
                    "name": "Gift wrap",
                    "total": "2.50",
                    "meta_data": [{"key": "_wcsync_line", "value": "main:3"}],
                }
            ],
        },
        setup=setup,
        finding=lambda r, b: (
            f"{r.status_code}; line meta "
            f"{[[(m['key'], m['value'], m.get('display_key')) for m in i['meta_data']] for i in lines_of(b)]}"
            if "line_items" in b
            else status_finding(r, b)
        ),
    )
    mid = meta_order["id"]
    rec.record(
        "v08-update-line-meta",
        "PUT line_items [{id: mug line, meta_data [{key: Engraving, value: Grace}]}]",
        "PUT",
        f"/orders/{mid}",
        body={
            "line_items": [
                {
                    "id": meta_order["line_items"][0]["id"],
                    "meta_data": [{"key": "Engraving", "value": "Grace"}],
                }
            ]
        },
        setup=[*setup, f"v07: order {mid}"],
        finding=lambda r, b: (
            f"{r.status_code}; mug line meta "
            f"{[(m['key'], m['value']) for m in b['line_items'][0]['meta_data']]}"
            if "line_items" in b
            else status_finding(r, b)
        ),
    )

    refund_order = rec.json(
        "POST",
        "/orders",
        body={
            "status": "processing",
            "payment_method": "bacs",
            "line_items": [
                {"product_id": rec.skus["SKU-MUG-001"], "quantity": 2},
                {"sku": "SKU-POLO-M", "quantity": 1},
            ],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.00"}],
        },
    )
    rid = refund_order["id"]
    polo_line = refund_order["line_items"][1]["id"]
    r_setup = [
        f"POST /orders -> order {rid} (processing): 2 x mug, 1 x SKU-POLO-M (line {polo_line}, 22.00), "
        f"shipping 4.00; total {refund_order['total']}"
    ]
    refund = rec.record(
        "v09a-refund-line-level",
        "POST /orders/{id}/refunds amount 22.00, reason, api_refund false, "
        "line_items [{id: polo line, quantity 1, "
        "refund_total 22.00}]",
        "POST",
        f"/orders/{rid}/refunds",
        body={
            "amount": "22.00",
            "reason": "size M returned",
            "api_refund": False,
            "line_items": [{"id": polo_line, "quantity": 1, "refund_total": "22.00"}],
        },
        setup=r_setup,
        finding=lambda r, b: f"{r.status_code}; amount {b.get('amount')!r}, reason {b.get('reason')!r}",
    )
    rec.record(
        "v09b-refund-get-order",
        "GET /orders/{id} after the line refund",
        "GET",
        f"/orders/{rid}",
        setup=[*r_setup, "after v09a"],
        finding=lambda r, b: (
            f"{r.status_code}; status {b['status']}, total {b['total']}, refunds {b['refunds']}"
        ),
    )
    rec.record(
        "v09c-refund-get-refund",
        "GET /orders/{id}/refunds/{refund id}",
        "GET",
        f"/orders/{rid}/refunds/{refund['id']}",
        setup=[*r_setup, "after v09a"],
        finding=lambda r, b: f"{r.status_code}; amount {b.get('amount')!r}, reason {b.get('reason')!r}",
    )
    rec.record(
        "v09d-refunds-list",
        "GET /orders/{id}/refunds",
        "GET",
        f"/orders/{rid}/refunds",
        setup=[*r_setup, "after v09a"],
        finding=lambda r, b: f"{r.status_code}; {[(x['id'], x['amount'], x['reason']) for x in b]}",
    )
    remaining = f"{float(refund_order['total']) - 22.00:.2f}"
    rec.record(
        "v10-refund-more-than-remaining",
        "POST /refunds amount = remaining + 5.00, no lines, api_refund false",
        "POST",
        f"/orders/{rid}/refunds",
        body={"amount": f"{float(remaining) + 5:.2f}", "api_refund": False},
        setup=[*r_setup, "after v09a"],
        finding=status_finding,
        observed=lambda _b: {"refunds_after": rec.order(rid)["refunds"]},
    )
    rec.record(
        "v10b-line-refund-more-than-line",
        "POST /refunds line_items [{id: polo line (already refunded), quantity 1, refund_total 22.00}], "
        "no amount",
        "POST",
        f"/orders/{rid}/refunds",
        body={"api_refund": False, "line_items": [{"id": polo_line, "quantity": 1, "refund_total": "22.00"}]},
        setup=[*r_setup, "after v09a"],
        finding=lambda r, b: (
            status_finding(r, b) if "code" in b else f"{r.status_code}; amount {b.get('amount')!r}"
        ),
        observed=lambda _b: {"refunds_after": rec.order(rid)["refunds"]},
    )
    rec.record(
        "v11a-refund-remaining",
        "POST /refunds amount = exactly what is left",
        "POST",
        f"/orders/{rid}/refunds",
        body={
            "amount": f"{left_to_refund(rec.order(rid)):.2f}",
            "api_refund": False,
        },
        setup=[*r_setup, "after v10b"],
        finding=lambda r, b: (
            status_finding(r, b)
            if "code" in b
            else f"{r.status_code}; order status {rec.order(rid)['status']}"
        ),
    )
    rec.record(
        "v11b-refund-on-refunded-order",
        'POST /refunds amount "1.00" on the refunded order',
        "POST",
        f"/orders/{rid}/refunds",
        body={"amount": "1.00", "api_refund": False},
        setup=[*r_setup, "after v11a"],
        finding=status_finding,
    )
    # Leave the store as it was: the variable product goes; the orders stay.
    for vid in var_ids.values():
        rec.call("DELETE", f"/products/{pid}/variations/{vid}", query={"force": "true"})
    rec.call("DELETE", f"/products/{pid}", query={"force": "true"})


# ------------------------------------------------------------------------ drafts


class HookReceiver:
    """A webhook receiver on a loopback port; it keeps every delivery it gets."""

    def __init__(self, port: int) -> None:
        self.deliveries: queue.Queue[dict[str, Any]] = queue.Queue()
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                received.put({"headers": dict(self.headers.items()), "raw_body": raw, "at": utc_now()})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def collect(self, seconds: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                out.append(self.deliveries.get(timeout=0.5))
            except queue.Empty:
                continue
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def record_drafts(rec: Recorder, hook_port: int | None) -> None:
    """A create that fails after the first save: the half-made order, its listing, and (with
    a ``hook_port`` for a receiver) its webhook."""
    rec.say(f"{rec.store['name']}: drafts")
    receiver = HookReceiver(hook_port) if hook_port is not None else None
    hook = (
        rec.json(
            "POST",
            "/webhooks",
            body={
                "name": "wcsync recorder",
                "topic": "order.created",
                "delivery_url": f"http://127.0.0.1:{hook_port}/hook",
                "secret": "recorder-secret",
                "status": "active",
            },
        )
        if receiver is not None
        else None
    )
    try:
        if receiver is not None:
            receiver.collect(1.0)  # the ping
        start = (rec.now() - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
        rec.sleep(1.1)
        origin = f"recorder:draft-{int(time.time())}"
        body = {
            "status": "processing",
            "payment_method": "bacs",
            "line_items": [{"product_id": rec.skus["SKU-MUG-001"], "quantity": 1}],
            "meta_data": [{"key": "_wcsync_origin", "value": origin}],
            "coupon_lines": [{"code": "no-such-coupon"}],
        }
        failed = rec.record(
            "d01-create-unknown-coupon",
            "POST /orders (processing, one mug, meta _wcsync_origin) "
            "with coupon_lines [{code: no-such-coupon}]",
            "POST",
            "/orders",
            body=body,
            finding=lambda r, b: f"{r.status_code} {b.get('code')}; data {b.get('data')}",
        )
        listing = rec.json(
            "GET",
            "/orders",
            query={
                "modified_after": start,
                "dates_are_gmt": "true",
                "status": "any",
                "per_page": "100",
                "_fields": "id,status,meta_data",
            },
        )
        left = [
            o["id"]
            for o in listing
            if any(m["key"] == "_wcsync_origin" and m["value"] == origin for m in o["meta_data"])
        ]
        draft_id = (failed.get("data") or {}).get("new_draft_order_id") or (left[0] if left else None)
        setup = [f"d01: the failed create left order {draft_id}"]
        rec.record(
            "d02-get-left-order",
            "GET /orders/{id} of the order the failed create left",
            "GET",
            f"/orders/{draft_id}",
            setup=setup,
            finding=lambda r, b: (
                f"{r.status_code}; status {b.get('status')}, total {b.get('total')}, "
                f"created_via {b.get('created_via')}, lines {len(b.get('line_items', []))}, coupons "
                f"{len(b.get('coupon_lines', []))}"
            ),
        )

        def listed(r: httpx.Response, b: Any) -> str:
            ids = [o["id"] for o in b] if isinstance(b, list) else b
            verdict = "IS" if draft_id in ids else "is NOT"
            return f"{r.status_code}; the left order {verdict} listed; {len(ids)} item(s)"

        fields = "id,status,date_modified_gmt"
        rec.record(
            "d03a-list-default",
            "GET /orders?per_page=20&_fields=... (default status)",
            "GET",
            "/orders",
            query={"per_page": "20", "_fields": fields},
            setup=setup,
            finding=listed,
        )
        rec.record(
            "d03b-list-status-any",
            "GET /orders?status=any",
            "GET",
            "/orders",
            query={"status": "any", "per_page": "20", "_fields": fields},
            setup=setup,
            finding=listed,
        )
        rec.record(
            "d03c-list-modified-after",
            "GET /orders?modified_after=<before d01>&orderby=modified&order=asc",
            "GET",
            "/orders",
            query={
                "modified_after": start,
                "dates_are_gmt": "true",
                "orderby": "modified",
                "order": "asc",
                "per_page": "100",
                "_fields": fields,
            },
            setup=setup,
            finding=listed,
        )
        rec.record(
            "d03d-list-status-checkout-draft",
            "GET /orders?status=checkout-draft",
            "GET",
            "/orders",
            query={"status": "checkout-draft", "per_page": "20", "_fields": fields},
            setup=setup,
            finding=listed,
        )
        rec.record(
            "d04-notes-of-left-order",
            "GET /orders/{id}/notes",
            "GET",
            f"/orders/{draft_id}/notes",
            setup=setup,
            finding=lambda r, b: f"{r.status_code}; {[n['note'] for n in b]}",
        )
        rec.record(
            "d05-batch-create-unknown-coupon",
            "POST /orders/batch create [one order with coupon_lines [{code: no-such-coupon}]]",
            "POST",
            "/orders/batch",
            body={"create": [{**body, "meta_data": [{"key": "_wcsync_origin", "value": origin + "-batch"}]}]},
            finding=lambda r, b: f"{r.status_code}; {b.get('create')}",
        )
        if receiver is None:
            return
        deliveries = receiver.collect(40.0)
        out = []
        for delivery in deliveries:
            try:
                payload = json.loads(delivery["raw_body"])
            except ValueError:
                payload = delivery["raw_body"]
            out.append(
                {
                    "topic": delivery["headers"].get("X-WC-Webhook-Topic"),
                    "resource_id": payload.get("id") if isinstance(payload, dict) else None,
                    "status_in_payload": payload.get("status") if isinstance(payload, dict) else None,
                    "origin_meta": [
                        m["value"] for m in payload.get("meta_data", []) if m["key"] == "_wcsync_origin"
                    ]
                    if isinstance(payload, dict)
                    else None,
                    "received_at": delivery["at"],
                }
            )
        record = {
            "case": "d06-webhook-order-created",
            "what": "order.created deliveries received within 40 s of d01 and d05 "
            "(webhook made just before d01)",
            "store": {"woocommerce": rec.version, "storage": "hpos" if rec.store["hpos"] else "posts"},
            "setup": [f"webhook order.created -> http://127.0.0.1:{hook_port}/hook", *setup],
            "deliveries": out,
            "finding": f"{len(out)} delivery(ies): "
            f"{[(d['topic'], d['resource_id'], d['status_in_payload']) for d in out]}",
        }
        (rec.folder / "d06-webhook-order-created.json").write_text(json.dumps(record, indent=1) + "\n")
        rec.say(f"  {rec.store['name']} d06-webhook-order-created: {record['finding']}")
    finally:
        if isinstance(hook, dict) and "id" in hook:
            rec.call("DELETE", f"/webhooks/{hook['id']}", query={"force": "true"})
        if receiver is not None:
            receiver.close()


# ----------------------------------------------------------------------- listing


def record_listing(rec: Recorder) -> None:
    """Page-number walks over a moving list, and the keyset parameters that replace them."""
    rec.say(f"{rec.store['name']}: listing")
    rec.sleep(1.1)
    t0 = (rec.now() - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    rec.sleep(1.1)
    ids: list[int] = []
    for index in range(3):
        ids.append(rec.new_order(meta=f"recorder:listing-{index}")["id"])
        rec.sleep(1.1)
    batch = rec.json(
        "POST",
        "/orders/batch",
        body={"create": [rec.order_body(meta=f"recorder:batch-{i}") for i in range(3)]},
    )
    ids += [o["id"] for o in batch["create"]]
    setup = [
        f"t0 = {t0}; orders {ids[:3]} created one second apart, "
        f"then {ids[3:]} in one batch (often one second)"
    ]
    walk = {
        "modified_after": t0,
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": "2",
        "_fields": "id,date_modified_gmt",
    }

    def pages(r: httpx.Response, b: Any) -> str:
        rows = [(o["id"], o["date_modified_gmt"]) for o in b] if isinstance(b, list) else b
        return f"{r.status_code}; X-WP-Total {r.headers.get('x-wp-total')}; {rows}"

    first = rec.record(
        "k01a-walk-page1",
        "GET /orders modified_after=t0 orderby=modified asc per_page=2 page=1",
        "GET",
        "/orders",
        query={**walk, "page": "1"},
        setup=setup,
        finding=pages,
    )
    rec.sleep(1.1)
    rec.record(
        "k01b-edit-while-walking",
        "PUT /orders/{first of page 1} {customer_note}: an edit between pages",
        "PUT",
        f"/orders/{first[0]['id']}",
        body={"customer_note": "edited while listed"},
        setup=[*setup, "after k01a"],
        finding=lambda r, b: f"{r.status_code}; date_modified_gmt {b.get('date_modified_gmt')}",
    )
    second = rec.record(
        "k01c-walk-page2",
        "the same walk, page=2, after the edit",
        "GET",
        "/orders",
        query={**walk, "page": "2"},
        setup=[*setup, "after k01b"],
        finding=pages,
    )
    third = rec.record(
        "k01d-walk-page3",
        "page=3",
        "GET",
        "/orders",
        query={**walk, "page": "3"},
        setup=[*setup, "after k01c"],
        finding=pages,
    )
    fourth = rec.record(
        "k01e-walk-page4",
        "page=4",
        "GET",
        "/orders",
        query={**walk, "page": "4"},
        setup=[*setup, "after k01d"],
        finding=pages,
    )
    seen = [o["id"] for page in (first, second, third, fourth) if isinstance(page, list) for o in page]
    skipped = [i for i in ids if i not in seen]
    summary = {
        "case": "k01-summary",
        "what": "what the page-number walk k01a-e saw",
        "store": {"woocommerce": rec.version, "storage": "hpos" if rec.store["hpos"] else "posts"},
        "setup": setup,
        "seen_in_order": seen,
        "skipped": skipped,
        "read_twice": sorted({i for i in seen if seen.count(i) > 1}),
        "finding": f"ids {skipped} never seen by the page walk; {len(seen)} rows read",
    }
    (rec.folder / "k01-summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    rec.say(f"  {rec.store['name']} k01-summary: {summary['finding']}")

    every = rec.json(
        "GET",
        "/orders",
        query={"include": ",".join(map(str, ids)), "per_page": "100", "_fields": "id,date_modified_gmt"},
    )
    by_time = sorted((o["date_modified_gmt"], o["id"]) for o in every)
    boundary_time, boundary_id = by_time[2]
    rec.record(
        "k02a-modified-after-exact",
        "modified_after = an order's exact date_modified_gmt, orderby=modified asc, "
        "_fields=id,date_modified_gmt",
        "GET",
        "/orders",
        query={
            "modified_after": boundary_time,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "100",
            "_fields": "id,date_modified_gmt",
        },
        setup=[*setup, f"order {boundary_id} has date_modified_gmt {boundary_time}"],
        finding=pages,
    )
    minus_one = (datetime.strptime(boundary_time, "%Y-%m-%dT%H:%M:%S") - timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    same_second = [i for t, i in by_time if t == boundary_time]
    rec.record(
        "k02b-modified-after-minus-one-exclude",
        "modified_after = that time - 1 s, "
        "exclude = the first of the ids at that second (as if read already)",
        "GET",
        "/orders",
        query={
            "modified_after": minus_one,
            "exclude": str(same_second[0]),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "100",
            "_fields": "id,date_modified_gmt",
        },
        setup=[*setup, f"orders at {boundary_time}: {same_second}"],
        finding=pages,
    )
    rec.record(
        "k02c-modified-after-minus-one",
        "modified_after = that time - 1 s, no exclude",
        "GET",
        "/orders",
        query={
            "modified_after": minus_one,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "100",
            "_fields": "id,date_modified_gmt",
        },
        setup=setup,
        finding=pages,
    )
    rec.record(
        "k03-same-second-tie-order",
        "include = the batch orders (created in one request), orderby=modified asc, then desc",
        "GET",
        "/orders",
        query={
            "include": ",".join(map(str, ids[3:])),
            "orderby": "modified",
            "order": "asc",
            "_fields": "id,date_modified_gmt",
        },
        setup=setup,
        finding=pages,
        observed=lambda _b: {
            "desc": [
                (o["id"], o["date_modified_gmt"])
                for o in rec.json(
                    "GET",
                    "/orders",
                    query={
                        "include": ",".join(map(str, ids[3:])),
                        "orderby": "modified",
                        "order": "desc",
                        "_fields": "id,date_modified_gmt",
                    },
                )
            ]
        },
    )

    # The keyset walk of issue 9 over the same orders, with an edit between its pages too.
    cursor, read_at_cursor = t0, []
    seen_keyset: list[int] = []
    for page in range(1, 9):
        query = {
            "modified_after": cursor,
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "2",
            "_fields": "id,date_modified_gmt",
        }
        if read_at_cursor:
            query["exclude"] = ",".join(map(str, read_at_cursor))
        rows = rec.record(
            f"k04{chr(96 + page)}-keyset-page{page}",
            "keyset walk: modified_after = last time read - 1 s, exclude = ids read at that second",
            "GET",
            "/orders",
            query=query,
            setup=[*setup, "after k03 and the keyset pages before"],
            finding=pages,
        )
        if not rows:
            break
        seen_keyset += [o["id"] for o in rows]
        last = rows[-1]["date_modified_gmt"]
        at_last = [o["id"] for o in rows if o["date_modified_gmt"] == last]
        read_at_cursor = (read_at_cursor if last == _plus_one(cursor) else []) + at_last
        cursor = (datetime.strptime(last, "%Y-%m-%dT%H:%M:%S") - timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        if page == 1:
            rec.sleep(1.1)
            rec.json(
                "PUT", f"/orders/{rows[0]['id']}", body={"customer_note": "edited during the keyset walk"}
            )
    summary = {
        "case": "k04-summary",
        "what": "what the keyset walk k04* saw "
        "(the first order of its first page was edited after that page)",
        "store": {"woocommerce": rec.version, "storage": "hpos" if rec.store["hpos"] else "posts"},
        "setup": setup,
        "seen_in_order": seen_keyset,
        "missed": [i for i in ids if i not in seen_keyset],
        "finding": f"missed {[i for i in ids if i not in seen_keyset]}; {len(seen_keyset)} rows read",
    }
    (rec.folder / "k04-summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    rec.say(f"  {rec.store['name']} k04-summary: {summary['finding']}")


def _plus_one(moment: str) -> str:
    return (datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S") + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


# ------------------------------------------------------------------------- taxes


def record_taxes(rec: Recorder) -> None:
    """Orders created over REST with taxes on: one standard 20 % rate, prices without and with tax."""
    rec.say(f"{rec.store['name']}: taxes")

    def setting(group: str, name: str, value: str) -> None:
        response = rec.call("PUT", f"/settings/{group}/{name}", body={"value": value})
        assert response.status_code == 200, response.text

    explicit = {
        "status": "processing",
        "payment_method": "bacs",
        "billing": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "country": "GB",
            "postcode": "N1 9GU",
            "email": "ada@example.test",
        },
        "shipping": {"first_name": "Ada", "last_name": "Lovelace", "country": "GB", "postcode": "N1 9GU"},
        "line_items": [
            {"product_id": rec.skus["SKU-MUG-001"], "quantity": 3, "subtotal": "28.50", "total": "25.65"},
            {"product_id": rec.skus["SKU-STICKER"], "quantity": 1, "subtotal": "2.50", "total": "2.50"},
        ],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
        "fee_lines": [{"name": "Gift wrap", "total": "2.50", "tax_status": "taxable"}],
    }
    catalogue = {
        **explicit,
        "line_items": [
            {"product_id": rec.skus["SKU-MUG-001"], "quantity": 3},
            {"product_id": rec.skus["SKU-STICKER"], "quantity": 1},
        ],
    }

    def taxes(r: httpx.Response, b: Any) -> str:
        if not isinstance(b, dict) or "line_items" not in b:
            return status_finding(r, b)
        return (
            f"{r.status_code}; prices_include_tax {b['prices_include_tax']}; total {b['total']}, total_tax "
            f"{b['total_tax']}, cart_tax {b['cart_tax']}, shipping_tax {b['shipping_tax']}, discount_total "
            f"{b['discount_total']}, discount_tax {b['discount_tax']}; lines "
            f"{[(i['subtotal'], i['subtotal_tax'], i['total'], i['total_tax']) for i in b['line_items']]}; "
            f"fee {[(i['total'], i['total_tax']) for i in b['fee_lines']]}; "
            f"tax_lines {[(t['rate_code'], t['tax_total'], t['shipping_tax_total']) for t in b['tax_lines']]}"
        )

    rates: list[int] = []
    try:
        setting("general", "woocommerce_calc_taxes", "yes")
        setting("tax", "woocommerce_prices_include_tax", "no")
        rec.record(
            "t00-taxes-on-no-rates",
            "POST /orders with explicit line totals: taxes on, NO tax rate",
            "POST",
            "/orders",
            body=explicit,
            setup=["woocommerce_calc_taxes yes, prices exclude tax, no rates"],
            finding=taxes,
        )
        rate = rec.json(
            "POST",
            "/taxes",
            body={
                "country": "",
                "rate": "20.0000",
                "name": "VAT",
                "priority": 1,
                "compound": False,
                "shipping": True,
                "class": "standard",
            },
        )
        rates.append(rate["id"])
        setup = [
            f"woocommerce_calc_taxes yes; one standard rate 20 % (id {rate['id']}, all countries, shipping "
            "too); prices exclude tax"
        ]
        rec.record(
            "t01-rate-20-exclusive-explicit",
            "POST /orders with explicit line subtotal/total, shipping, fee",
            "POST",
            "/orders",
            body=explicit,
            setup=setup,
            finding=taxes,
        )
        rec.record(
            "t02-rate-20-exclusive-catalogue",
            "POST /orders, lines by product only (catalogue prices)",
            "POST",
            "/orders",
            body=catalogue,
            setup=setup,
            finding=taxes,
        )
        posted_tax = {
            **explicit,
            "line_items": [
                {
                    **explicit["line_items"][0],
                    "subtotal_tax": "9.99",
                    "total_tax": "9.99",
                    "taxes": [{"id": rate["id"], "total": "9.99", "subtotal": "9.99"}],
                },
                explicit["line_items"][1],
            ],
            "tax_lines": [{"rate_id": rate["id"], "tax_total": "9.99"}],
        }
        rec.record(
            "t03-rate-20-posted-taxes-ignored",
            "POST /orders with line subtotal_tax/total_tax/taxes and tax_lines posted (read-only fields)",
            "POST",
            "/orders",
            body=posted_tax,
            setup=setup,
            finding=taxes,
        )
        setting("tax", "woocommerce_prices_include_tax", "yes")
        setup_incl = [*setup[:1], "then woocommerce_prices_include_tax yes"]
        rec.record(
            "t04-rate-20-inclusive-explicit",
            "POST /orders with explicit line subtotal/total, prices include tax",
            "POST",
            "/orders",
            body=explicit,
            setup=setup_incl,
            finding=taxes,
        )
        inclusive = rec.record(
            "t05-rate-20-inclusive-catalogue",
            "POST /orders by product only, prices include tax",
            "POST",
            "/orders",
            body=catalogue,
            setup=setup_incl,
            finding=taxes,
        )
        setting("tax", "woocommerce_prices_include_tax", "no")
        if isinstance(inclusive, dict) and "line_items" in inclusive:
            copy_body = {
                **explicit,
                "line_items": [
                    {
                        "product_id": i["product_id"],
                        "quantity": i["quantity"],
                        "subtotal": i["subtotal"],
                        "total": i["total"],
                    }
                    for i in inclusive["line_items"]
                ],
                "shipping_lines": [
                    {
                        "method_id": "flat_rate",
                        "method_title": "Flat rate",
                        "total": inclusive["shipping_lines"][0]["total"],
                    }
                ],
                "fee_lines": [{"name": "Gift wrap", "total": inclusive["fee_lines"][0]["total"]}],
            }
            rec.record(
                "t06-copy-of-inclusive-order-to-exclusive-store",
                "POST /orders copying t05's line subtotal/total (ex tax), shipping and fee to the same rate, "
                "prices excluding tax",
                "POST",
                "/orders",
                body=copy_body,
                setup=[*setup, f"t05 total {inclusive['total']}"],
                finding=taxes,
                observed=lambda b: {
                    "t05_total": inclusive["total"],
                    "equal_totals": isinstance(b, dict) and b.get("total") == inclusive["total"],
                },
            )
        made = rec.json("POST", "/orders", body={**explicit, "status": "pending"})
        rec.record(
            "t07-update-line-on-taxed-order",
            "PUT line_items [{id: mug, quantity 4, subtotal/total 38.00}]",
            "PUT",
            f"/orders/{made['id']}",
            body={
                "line_items": [
                    {"id": made["line_items"][0]["id"], "quantity": 4, "subtotal": "38.00", "total": "38.00"}
                ]
            },
            setup=[*setup, f"order {made['id']} as t01 but pending"],
            finding=taxes,
        )
        refund = rec.record(
            "t08-refund-on-taxed-order",
            "POST /refunds amount 10.00, api_refund false (no lines)",
            "POST",
            f"/orders/{made['id']}/refunds",
            body={"amount": "10.00", "api_refund": False},
            setup=[*setup, "after t07"],
            finding=lambda r, b: (
                status_finding(r, b)
                if "code" in b
                else f"{r.status_code}; amount {b.get('amount')!r}, lines {b.get('line_items')}"
            ),
        )
        del refund
    finally:
        for rate_id in rates:
            rec.call("DELETE", f"/taxes/{rate_id}", query={"force": "true"})
        setting("tax", "woocommerce_prices_include_tax", "no")
        setting("general", "woocommerce_calc_taxes", "no")


# ------------------------------------------------------------------------ shapes


def record_shapes(rec: Recorder) -> None:
    """Plain exchanges whose shapes the fake is compared with (per version)."""
    rec.say(f"{rec.store['name']}: shapes")
    order = rec.record(
        "s01-create-order",
        "POST /orders (processing) with meta, shipping and a fee",
        "POST",
        "/orders",
        body={**rec.order_body(status="processing", meta="recorder:shape"), "customer_note": "hi"},
        finding=status_finding,
    )
    oid = order["id"]
    rec.record("s02-get-order", "GET /orders/{id}", "GET", f"/orders/{oid}", finding=status_finding)
    rec.record(
        "s03-notes",
        "GET /orders/{id}/notes",
        "GET",
        f"/orders/{oid}/notes",
        finding=lambda r, b: f"{r.status_code}; {[n['note'] for n in b]}",
    )
    rec.record(
        "s04-refund",
        "POST /orders/{id}/refunds amount 5.00 with a line",
        "POST",
        f"/orders/{oid}/refunds",
        body={
            "amount": "5.00",
            "reason": "r",
            "api_refund": False,
            "line_items": [{"id": order["line_items"][1]["id"], "quantity": 1, "refund_total": "2.50"}],
        },
        finding=lambda r, b: f"{r.status_code}; amount {b.get('amount')!r}",
    )
    rec.record(
        "s05-batch",
        "POST /orders/batch create 1, update 1 (status completed), delete 1 missing",
        "POST",
        "/orders/batch",
        body={
            "create": [rec.order_body()],
            "update": [{"id": oid, "status": "completed"}],
            "delete": [MISSING_ITEM_ID],
        },
        finding=lambda r, b: f"{r.status_code}; keys {sorted(b)}",
    )
    rec.record(
        "s06-product",
        "GET /products?sku=SKU-MUG-001",
        "GET",
        "/products",
        query={"sku": "SKU-MUG-001"},
        finding=lambda r, b: f"{r.status_code}; keys {sorted(b[0]) if b else []}",
    )
    via = rec.record(
        "s08-create-with-created-via",
        'POST /orders with created_via "wcsync"',
        "POST",
        "/orders",
        body={**rec.order_body(), "created_via": "wcsync"},
        finding=lambda r, b: f"{r.status_code}; created_via {b.get('created_via')!r}",
    )
    rec.record(
        "s09-list-created-via",
        "GET /orders?created_via=wcsync&include=<s08's order and s01's>",
        "GET",
        "/orders",
        query={"created_via": "wcsync", "include": f"{via['id']},{oid}", "_fields": "id,created_via"},
        setup=[f"s08 made order {via['id']}; s01 made order {oid} (created_via rest-api)"],
        finding=lambda r, b: (
            f"{r.status_code}; {[(o['id'], o['created_via']) for o in b] if isinstance(b, list) else b}"
        ),
    )
    rec.record(
        "s10-list-page-beyond-end",
        "GET /orders?per_page=2&page=999&status=any",
        "GET",
        "/orders",
        query={"per_page": "2", "page": "999", "status": "any"},
        finding=lambda r, b: (
            f"{r.status_code}; X-WP-Total {r.headers.get('x-wp-total')}, "
            f"X-WP-TotalPages {r.headers.get('x-wp-totalpages')}, Link {r.headers.get('link')}"
        ),
    )
    rec.record(
        "s07-system-status",
        "GET /system_status (trimmed to environment.version, settings HPOS keys)",
        "GET",
        "/system_status",
        finding=lambda r, b: f"{r.status_code}; {b['environment']['version']}",
        trim=lambda b: {
            "environment": {k: b["environment"].get(k) for k in ("version", "wp_version")},
            "settings": {
                k: b["settings"].get(k) for k in ("HPOS_enabled", "order_datastore", "HPOS_sync_enabled")
            },
        },
        trim_note="keeps environment.version/wp_version and the HPOS settings",
    )


GROUPS = ("lines", "variations", "drafts", "listing", "taxes", "shapes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", required=True, type=Path, help="the realwc kit's stores.json")
    parser.add_argument("--store", action="append", help="record only these store names")
    parser.add_argument("--group", action="append", choices=GROUPS, help="record only these groups")
    parser.add_argument("--out", type=Path, default=HERE / "recorded")
    parser.add_argument("--hook-port", type=int, default=28084, help="loopback port for the webhook receiver")
    args = parser.parse_args()
    stores = json.loads(args.stores.read_text())
    groups = args.group or list(GROUPS)
    for store in stores:
        if args.store and store["name"] not in args.store:
            continue
        rec = Recorder(store, args.out)
        try:
            for group in groups:
                if group == "lines":
                    record_lines(rec)
                elif group == "variations":
                    record_variations(rec)
                elif group == "drafts":
                    record_drafts(rec, args.hook_port)
                elif group == "listing":
                    record_listing(rec)
                elif group == "taxes":
                    record_taxes(rec)
                elif group == "shapes":
                    record_shapes(rec)
        finally:
            rec.close()
        print(f"{store['name']}: {len(rec.written)} file(s) in {rec.folder}")


if __name__ == "__main__":
    main()
