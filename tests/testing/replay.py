"""Run the recorder's cases (tests/woocommerce/record.py) against a fake store, and compare.

The recorder wrote ``recorded/real-<line>-<storage>/`` from real WooCommerce stores; here the
very same code talks to a fake store that plays the same version and storage, with the realwc
kit's catalogue, and writes its own files into a temporary folder. ``normalized`` turns either
body into what must be equal: ids, dates, keys, URLs and running stock levels are dropped or
reduced to what they mean (a variation line is one whose ``variation_id`` is set).

The recorder is synchronous (httpx.Client) and the fake store is an ASGI app, so the fake runs
on an event loop in a thread of its own; the recorder's ``sleep`` moves the fake's clock
instead of waiting.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import tempfile
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from app.testing import CatalogProduct, FakeStore, Knobs
from tests.conftest import RECORDED
from tests.woocommerce import record

T = TypeVar("T")

# Folder -> (WooCommerce line, storage) of the recorded stores.
FOLDERS: dict[str, tuple[str, str]] = {
    "real-7.8-posts": ("7.8", "posts"),
    "real-7.8-hpos": ("7.8", "hpos"),
    "real-10.6-hpos": ("10.6", "hpos"),
}
# The five simple products of every realwc store (their names, prices and stock).
REALWC_CATALOG: tuple[CatalogProduct, ...] = (
    {"sku": "SKU-TSHIRT-RED", "name": "T-Shirt Red", "price": "19.00", "stock": 100000},
    {"sku": "SKU-TSHIRT-BLUE", "name": "T-Shirt Blue", "price": "19.00", "stock": 100000},
    {"sku": "SKU-MUG-001", "name": "Mug", "price": "9.50", "stock": 100000},
    {"sku": "SKU-HOODIE-L", "name": "Hoodie L", "price": "45.00", "stock": 100000},
    {"sku": "SKU-STICKER", "name": "Sticker", "price": "2.50", "stock": 100000},
)
# Keys whose values are ids, dates, secrets or URLs of one particular run.
VOLATILE = frozenset(
    {
        "id",
        "order_key",
        "number",
        "payment_url",
        "_links",
        "permalink",
        "date_created",
        "date_created_gmt",
        "date_modified",
        "date_modified_gmt",
        "date_paid",
        "date_paid_gmt",
        "date_completed",
        "date_completed_gmt",
        "date_on_sale_from",
        "date_on_sale_from_gmt",
        "date_on_sale_to",
        "date_on_sale_to_gmt",
        "related_ids",
        "stock_quantity",
        "total_sales",
        "received_at",
        "resource_id",
        "slug",
        "price_html",
        "new_draft_order_id",
    }
)
# Keys holding an id: only whether one is set is compared.
ID_KEYS = frozenset({"product_id", "variation_id", "parent_id", "rate_id"})
DIGITS = re.compile(r"\d+")


class LoopThread:
    """An event loop in a daemon thread, for driving async code from synchronous code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class SyncFakeTransport(httpx.BaseTransport):
    """A synchronous httpx transport onto the fake store's in-process ASGI transport."""

    def __init__(self, store: FakeStore, loop: LoopThread) -> None:
        self.store = store
        self.loop = loop
        self.inner = store.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self.inner.handle_async_request(forwarded)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        status, headers, body = self.loop.run(send())
        return httpx.Response(status, headers=headers, content=body, request=request)


def fake_for(folder: str) -> FakeStore:
    line, storage = FOLDERS[folder]
    store = FakeStore(
        "replay",
        storage="hpos" if storage == "hpos" else "posts",
        knobs=Knobs(wc_version=line),
        catalog=REALWC_CATALOG,
        base_url="http://127.0.0.1:9",
    )
    return store


def store_info(store: FakeStore, folder: str) -> dict[str, Any]:
    line, storage = FOLDERS[folder]
    return {
        "name": store.name,
        "base_url": store.base_url,
        "consumer_key": store.consumer_key,
        "consumer_secret": store.consumer_secret,
        "hpos": storage == "hpos",
        "woocommerce": store.state.release[0],
        "products": {p["sku"]: p["id"] for p in store.products.values() if p["sku"]},
    }


def run_on_fake(
    folder: str, group: Callable[[record.Recorder], None], *, setup: Callable[[FakeStore], None] | None = None
) -> dict[str, dict[str, Any]]:
    """Run one recorder group against a fresh fake store; its files by case name."""
    loop = LoopThread()
    store = fake_for(folder)
    if setup is not None:
        setup(store)

    def sleep(seconds: float) -> None:
        store.knobs.clock_skew_seconds += seconds

    def now() -> datetime:
        return store.clock()

    http = httpx.Client(
        transport=SyncFakeTransport(store, loop),
        base_url=store.base_url,
        auth=(store.consumer_key, store.consumer_secret),
    )
    try:
        with tempfile.TemporaryDirectory() as out:
            rec = record.Recorder(
                store_info(store, folder), Path(out), http=http, sleep=sleep, now=now, quiet=True
            )
            group(rec)
            return {path.stem: json.loads(path.read_text()) for path in sorted(rec.folder.glob("*.json"))}
    finally:
        http.close()
        loop.run(store.aclose())
        loop.close()


@functools.cache
def replayed(folder: str, group_name: str) -> dict[str, dict[str, Any]]:
    """Each group runs once per folder and test process."""
    groups: dict[str, Callable[[record.Recorder], None]] = {
        "lines": record.record_lines,
        "variations": record.record_variations,
        "drafts": lambda rec: record.record_drafts(rec, None),
        "listing": record.record_listing,
        "taxes": record.record_taxes,
        "shapes": record.record_shapes,
    }
    return run_on_fake(folder, groups[group_name])


def recorded(folder: str, case: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / folder / f"{case}.json").read_text()))


def recorded_cases(prefix: str) -> list[tuple[str, str]]:
    """``(folder, case)`` of every recording whose name starts with ``prefix``."""
    return [
        (folder, path.stem)
        for folder in FOLDERS
        for path in sorted((RECORDED / folder).glob(f"{prefix}*.json"))
        if not path.stem.endswith("-summary")
    ]


def is_error(body: Any) -> bool:
    return isinstance(body, dict) and {"code", "message", "data"} <= set(body) and "id" not in body


def normalized(value: Any, key: str | None = None) -> Any:
    """What must be equal between a real and a fake exchange."""
    if isinstance(value, dict):
        if is_error(value):
            data = value["data"]
            return {
                "code": value["code"],
                "message": value["message"],
                "data": (
                    {k: (bool(v) if k == "new_draft_order_id" else v) for k, v in data.items()}
                    if isinstance(data, dict)
                    else data
                ),
            }
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name in VOLATILE:
                continue
            if name in ID_KEYS:
                out[name] = bool(item)
            elif name == "variations" and isinstance(item, list) and all(isinstance(i, int) for i in item):
                out[name] = len(item)
            else:
                out[name] = normalized(item, name)
        if key == "meta_data" or ("key" in value and "value" in value):
            # Item meta that names another item (``_refunded_item_id``) holds an id.
            if value.get("key") == "_refunded_item_id":
                out["value"] = out["display_value"] = "<item id>"
        return out
    if isinstance(value, list):
        return [normalized(item, key) for item in value]
    if isinstance(value, str) and (key in ("note", "notes") or "recorder:" in value):
        # Notes quote running stock levels; origins carry the recorder's clock.
        return DIGITS.sub("#", value)
    return value


def lines_view(summary: dict[str, Any]) -> dict[str, Any]:
    """A recorder ``lines_summary`` without its ids and dates."""
    return {
        "status": summary["status"],
        "total": summary["total"],
        "line_items": [row[1:] for row in summary["line_items"]],
        "shipping_lines": [row[1:] for row in summary["shipping_lines"]],
        "fee_lines": [row[1:] for row in summary["fee_lines"]],
        **{k: v for k, v in summary.items() if k in ("billing_city", "meta")},
    }


def observed_view(observed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in observed.items():
        if name in ("get_after", "other_order_after"):
            out[name] = lines_view(value)
        elif name == "mug_stock_before":
            out["mug_stock_moved"] = observed["mug_stock_after"] - value
        elif name == "mug_stock_after":
            continue
        elif name == "notes":
            # Notes of one second come back in no stable order (two recordings of the same
            # case disagreed): compare them as a set.
            out[name] = sorted(DIGITS.sub("#", n) for n in value)
        elif name == "refunds_after":
            out[name] = [(r["reason"], r["total"]) for r in value]
        else:
            out[name] = normalized(value, name)
    return out


def link_shape(link: str) -> str:
    """A Link header without its host, ids and dates: which rels, which parameters."""
    return DIGITS.sub("#", re.sub(r"https?://[^/]+", "", link))


def assert_same_keys(ours: Any, theirs: Any, where: str = "body") -> None:
    """The same keys, all the way down (lists item by item)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
        assert set(ours) == set(theirs), (
            f"{where}: extra {sorted(set(ours) - set(theirs))}, missing {sorted(set(theirs) - set(ours))}"
        )
        for name in theirs:
            if name not in ("value", "display_value"):
                assert_same_keys(ours[name], theirs[name], f"{where}.{name}")
    elif isinstance(theirs, list) and isinstance(ours, list):
        for index, (mine, real) in enumerate(zip(ours, theirs, strict=False)):
            assert_same_keys(mine, real, f"{where}[{index}]")


def assert_replays(real: dict[str, Any], fake: dict[str, Any], *, keys: bool = True) -> None:
    """The fake's exchange says what the real one said: status, body, observations."""
    case = real["case"]
    assert fake["response"]["status"] == real["response"]["status"], (
        f"{case}: status {fake['response']['status']}, recorded {real['response']['status']}: "
        f"{fake['response']['body']}"
    )
    theirs, ours = real["response"]["headers"], fake["response"]["headers"]
    for name in ("x-wp-total", "x-wp-totalpages", "link"):
        assert (name in ours) == (name in theirs), f"{case}: header {name}"
    if "x-wp-total" in theirs:
        assert (ours["x-wp-total"], ours["x-wp-totalpages"]) == (
            theirs["x-wp-total"],
            theirs["x-wp-totalpages"],
        )
    if "link" in theirs:
        assert link_shape(ours["link"]) == link_shape(theirs["link"]), case
    if keys and not real.get("trimmed"):
        assert_same_keys(fake["response"]["body"], real["response"]["body"], case)
    assert normalized(fake["response"]["body"]) == normalized(real["response"]["body"]), case
    if "observed" in real:
        assert observed_view(fake["observed"]) == observed_view(real["observed"]), case
