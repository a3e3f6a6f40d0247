"""`wcsync demo`: a fake main store and two fake sub-stores with overlapping catalogues, served
on loopback, the service on SQLite, and a few seeded orders waiting to be synced."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import Settings
from app.main import configure_logging, create_app
from app.models import RunKind, utcnow
from app.testing import DEMO_CATALOG, FakeStore, Knobs

SUB_CATALOGS = {
    "sub1": {"SKU-TSHIRT-RED", "SKU-TSHIRT-BLUE", "SKU-MUG-001"},
    "sub2": {"SKU-MUG-001", "SKU-HOODIE-L", "SKU-STICKER"},
}
MAIN_ORDERS = [
    [("SKU-TSHIRT-RED", 2), ("SKU-MUG-001", 1)],
    [("SKU-HOODIE-L", 1)],
    [("SKU-STICKER", 5), ("SKU-TSHIRT-BLUE", 1)],
    [("SKU-MUG-001", 2)],
    [("SKU-TSHIRT-RED", 1), ("SKU-STICKER", 2)],
    [("SKU-HOODIE-L", 1), ("SKU-TSHIRT-BLUE", 2)],
]
CUSTOMERS = [
    ("Ada", "Lovelace", "London", "GB"),
    ("Grace", "Hopper", "Arlington", "US"),
    ("Alan", "Turing", "Wilmslow", "GB"),
    ("Katherine", "Johnson", "Hampton", "US"),
]


def build_fake_stores() -> dict[str, FakeStore]:
    """The demo's stores: a realistic but quick latency, plain HTTP and OAuth 1.0a like a
    real store without TLS."""

    def knobs() -> Knobs:
        return Knobs(latency_base_ms=30, latency_per_order_ms=15, max_concurrency=2)

    main = FakeStore(
        "main", consumer_key="ck_demo_main", consumer_secret="cs_demo_main", https=False, knobs=knobs()
    )
    stores = {"main": main}
    main.load_catalog(DEMO_CATALOG)
    for name, skus in SUB_CATALOGS.items():
        sub = FakeStore(
            name,
            consumer_key=f"ck_demo_{name}",
            consumer_secret=f"cs_demo_{name}",
            https=False,
            knobs=knobs(),
        )
        sub.load_catalog([product for product in DEMO_CATALOG if product["sku"] in skus])
        stores[name] = sub
    return stores


def seed_orders(stores: dict[str, FakeStore]) -> int:
    count = 0
    for i, items in enumerate(MAIN_ORDERS):
        first, last, city, country = CUSTOMERS[i % len(CUSTOMERS)]
        stores["main"].place_order(
            items,
            billing={
                "first_name": first,
                "last_name": last,
                "city": city,
                "country": country,
                "email": f"{first.lower()}@example.test",
                "address_1": "1 Demo Street",
            },
        )
        count += 1
    return count


async def _serve(app: Any, host: str, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", date_header=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises: the port is taken, say
        await asyncio.sleep(0.05)
    return server, task


def store_bodies(urls: dict[str, str], backfill: str) -> list[dict[str, Any]]:
    """How the demo adds its stores: sub-stores fulfil what they sell (routing `skus`); the main
    store takes every order (`skus` on it is refused: it would drop sub-store orders)."""
    return [
        {
            "name": name,
            "role": "main" if name == "main" else "sub",
            "base_url": url,
            "consumer_key": f"ck_demo_{name}",
            "consumer_secret": f"cs_demo_{name}",
            "routing": "all" if name == "main" else "skus",
            "backfill_since": backfill,
        }
        for name, url in urls.items()
    ]


async def _demo(host: str, port: int) -> None:
    database = Path.cwd() / "wcsync-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    token = os.environ.get("WCSYNC_ADMIN_TOKEN") or secrets.token_urlsafe(18)
    fakes = build_fake_stores()
    seeded = seed_orders(fakes)
    servers = []
    urls: dict[str, str] = {}
    for offset, (name, fake) in enumerate(fakes.items(), start=101):
        servers.append(await _serve(fake.app, "127.0.0.1", port + offset))
        urls[name] = f"http://127.0.0.1:{port + offset}"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", admin_token=token)
    configure_logging(settings.log_level)
    app = create_app(settings)
    servers.append(await _serve(app, host, port))
    base = f"http://{host}:{port}"
    backfill = (utcnow() - timedelta(days=1)).isoformat()
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
        for body in store_bodies(urls, backfill):
            response = await api.post("/api/stores", json=body)
            response.raise_for_status()
    # Discover at once, so that the pending badge shows the seeded orders from the start.
    run, _ = await app.state.engine.request_run(kind=RunKind.discovery)
    await app.state.engine.wait(run.id)
    print(
        f"""
wcsync demo is running.

  admin URL : {base}/admin   (API docs: {base}/docs)
  token     : {token}
  stores    : main {urls["main"]}, sub1 {urls["sub1"]}, sub2 {urls["sub2"]} (fake WooCommerce)
  seeded    : {seeded} orders on the main store, waiting to be synced

In another terminal:
  export WCSYNC_ADMIN_TOKEN={token}
  .venv/bin/wcsync status
  .venv/bin/wcsync sync --wait
  curl -s {urls["sub1"]}/__fake__/orders | python3 -m json.tool | head -40

Press Ctrl-C to stop.
""",
        flush=True,
    )
    await asyncio.gather(*(task for _, task in servers))


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> int:
    try:
        asyncio.run(_demo(host, port))
    except KeyboardInterrupt:
        pass
    return 0
