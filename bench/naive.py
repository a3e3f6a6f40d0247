"""The naive replicator, the baseline wcsync is measured against: the official `woocommerce`
Python client (a `requests` client), one POST per order per sub-store, sequential, no ledger,
as a simple WP-Cron sync or a first script would do it. Same fake stores and latency model as
bench/replicate.py (90 ms per request + 130 ms per order written, 2 at a time per store).

    .venv/bin/python bench/naive.py --orders 300 --subs 2        # ~2.5 min at scale 1
    .venv/bin/python bench/replicate.py --orders 300 --subs 2 --naive   # both, and the ratio

It lists the main store's orders (per_page=100, page by page), reads each sub-store's catalogue
once (to send its product ids), then POSTs every order to every sub-store in turn. A second run
over the same orders would create every one again (it keeps no ledger); that is not timed here.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from woocommerce import API

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.replicate import (  # noqa: E402
    MAIN,
    BenchError,
    FakeStoreProcess,
    Model,
    free_ports,
    seed_orders,
    start_fake,
    stop_fakes,
    verify_replicas,
    wait_ready,
)

ORIGIN_META = "_wcsync_origin"


def _api(fake: FakeStoreProcess) -> API:
    api = API(
        url=fake.url,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        version="wc/v3",
        timeout=120,
    )
    # The fakes serve as if behind https (as wcsync's bench registers them): the client's https
    # way, Basic auth, rather than its OAuth 1.0a signing for plain http.
    api.is_ssl = True
    return api


def _check(response: Any, what: str) -> Any:
    if response.status_code >= 300:
        raise BenchError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def replicate_naively(main: FakeStoreProcess, subs: Sequence[FakeStoreProcess]) -> dict[str, Any]:
    """The whole naive sync, timed: returns requests, replicas and seconds."""
    started = time.monotonic()
    requests = 0
    source = _api(main)
    orders: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = _check(
            source.get("orders", params={"per_page": 100, "page": page, "status": "processing"}),
            "list orders",
        )
        requests += 1
        orders += batch
        if len(batch) < 100:
            break
        page += 1
    created = 0
    for sub in subs:
        target = _api(sub)
        products: dict[str, int] = {}
        page = 1
        while True:
            batch = _check(target.get("products", params={"per_page": 100, "page": page}), "list products")
            requests += 1
            products.update({p["sku"]: p["id"] for p in batch if p.get("sku")})
            if len(batch) < 100:
                break
            page += 1
        for order in orders:
            payload = {
                "status": order["status"],
                "currency": order["currency"],
                "billing": order["billing"],
                "shipping": order["shipping"],
                "payment_method": order["payment_method"],
                "payment_method_title": order["payment_method_title"],
                "line_items": [
                    {"product_id": products[li["sku"]], "quantity": li["quantity"]}
                    for li in order["line_items"]
                    if li.get("sku") in products
                ],
                "meta_data": [{"key": ORIGIN_META, "value": f"{MAIN}:{order['id']}"}],
            }
            _check(target.post("orders", payload), f"create order {order['id']} on {sub.name}")
            requests += 1
            created += 1
    return {"requests": requests, "created": created, "seconds": time.monotonic() - started}


def naive_least_seconds(orders: int, subs: int, model: Model) -> float:
    """What the model allows one sequential client: every request alone, one order each."""
    pages = math.ceil(orders / 100) + subs  # the listing and each catalogue (one page)
    return (pages * model.base_ms + orders * subs * (model.base_ms + model.per_order_ms)) / 1000


async def measure_naive(orders: int, subs: int, model: Model) -> dict[str, Any]:
    """Fresh fake stores with `model`, `orders` main orders, the naive replicator timed."""
    with tempfile.TemporaryDirectory(prefix="wcsync-naive-") as tmp_name:
        tmp = Path(tmp_name)
        names = [MAIN, *(f"sub{i}" for i in range(1, subs + 1))]
        fakes: list[FakeStoreProcess] = []
        try:
            for name, port in zip(names, free_ports(len(names)), strict=True):
                fakes.append(start_fake(name, port, model, tmp))
            async with httpx.AsyncClient(timeout=60) as http:
                await asyncio.gather(*(wait_ready(http, f) for f in fakes))
                main_ids = await seed_orders(http, fakes[0], orders)
                result = await asyncio.to_thread(replicate_naively, fakes[0], fakes[1:])
                checks = await verify_replicas(http, fakes[1:], main_ids)
        finally:
            stop_fakes(fakes)
    result["verified"] = all(c.ok and c.replicas == orders for c in checks)
    result["replicas_per_s"] = result["created"] / result["seconds"]
    result["least_s"] = naive_least_seconds(orders, subs, model)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/naive.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--subs", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="requests the fakes serve at once (2)")
    parser.add_argument("--latency-base-ms", type=float, default=90.0)
    parser.add_argument("--latency-per-order-ms", type=float, default=130.0)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    model = Model(
        base_ms=args.latency_base_ms * args.scale,
        per_order_ms=args.latency_per_order_ms * args.scale,
        concurrency=args.concurrency,
    )
    try:
        result = asyncio.run(measure_naive(args.orders, args.subs, model))
    except BenchError as exc:
        print(f"bench/naive.py: {exc}", file=sys.stderr)
        return 2
    print(
        f"naive replicator: {result['created']} replicas in {result['seconds']:.1f} s,"
        f" {result['requests']} requests, {result['replicas_per_s']:.2f} replicas/s"
        f" (the model's least for one sequential client: {result['least_s']:.1f} s);"
        f" replicas {'ok' if result['verified'] else 'WRONG'}"
    )
    return 0 if result["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
