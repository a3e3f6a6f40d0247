"""`wcsync demo`: a fake main store and two fake sub-stores with overlapping catalogues, served
on loopback, the service on SQLite, and a few seeded orders waiting to be synced."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import Settings, new_admin_token
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


# The fake stores listen at the service's port plus these.
STORE_PORT_OFFSETS = range(101, 104)
LOCK_NAME = "wcsync-demo.lock"


class DemoCannotStart(Exception):
    """Why the demo did not start, in one sentence; nothing of an earlier demo was touched."""


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _wcsync_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def check_ports(host: str, port: int) -> None:
    """Refuse, before anything is deleted or started, when the demo's ports are taken: by an
    earlier demo (said with its URL) or by something else (the port named)."""
    base = f"http://{host}:{port}"
    wanted = [(host, port)] + [("127.0.0.1", port + offset) for offset in STORE_PORT_OFFSETS]
    taken = [p for h, p in wanted if _port_taken(h, p)]
    if not taken:
        return
    if port in taken and _wcsync_answers(base):
        raise DemoCannotStart(
            f"A wcsync demo already runs at {base}/admin; stop it (Ctrl-C in its terminal) or start "
            f"this one on other ports with `wcsync demo --port N`."
        )
    raise DemoCannotStart(
        f"Port {', '.join(map(str, taken))} is in use; the demo needs ports {port} and "
        f"{port + STORE_PORT_OFFSETS[0]}-{port + STORE_PORT_OFFSETS[-1]}: start it with "
        "`wcsync demo --port N`."
    )


@contextlib.contextmanager
def folder_lock(folder: Path, url: str) -> Iterator[None]:
    """Held while a demo runs from `folder`: a second demo there (on other ports) must not delete
    the first one's database under it."""
    path = folder / LOCK_NAME
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            running = handle.read().strip() or "its URL unknown"
            raise DemoCannotStart(
                f"A wcsync demo already runs from this folder ({running}); stop it (Ctrl-C in its "
                "terminal) or start this one from another folder."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{url}/admin\n")
        handle.flush()
        yield
    finally:
        handle.close()


async def _demo(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    check_ports(host, port)
    with folder_lock(Path.cwd(), base):
        await _run(host, port)


async def _run(host: str, port: int) -> None:
    database = Path.cwd() / "wcsync-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    token = os.environ.get("WCSYNC_ADMIN_TOKEN") or new_admin_token()
    fakes = build_fake_stores()
    seeded = seed_orders(fakes)
    servers = []
    urls: dict[str, str] = {}
    for offset, (name, fake) in zip(STORE_PORT_OFFSETS, fakes.items(), strict=True):
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
    except DemoCannotStart as exc:
        print(f"wcsync demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
