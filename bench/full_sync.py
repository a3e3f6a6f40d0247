"""Full sync memory on big stores: does the walk stream?

A fake main store holding N orders runs in a subprocess (so its memory is not counted); wcsync
runs here, connects the main store and one sub-store, and runs a Full sync main -> sub. By
default the orders predate the store's connection, so the walk reads every page and replicates
nothing (the cost of walking); `--replicate` widens the window with `since` so every order is
also copied (the cost of ingesting). It prints wall time and this process's peak RSS for each N;
a walk that streams holds RSS flat as N grows.

    .venv/bin/python bench/full_sync.py --orders 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = textwrap.dedent(
    """
    import sys, uvicorn
    from app.testing import DEMO_CATALOG, FakeStore
    n, port = int(sys.argv[1]), int(sys.argv[2])
    main = FakeStore("main", catalog=DEMO_CATALOG, base_url=f"http://127.0.0.1:{port}")
    for i in range(n):
        main.place_order([("SKU-MUG-001", 1 + i % 3)])
    sub = FakeStore("sub1", catalog=DEMO_CATALOG, base_url=f"http://127.0.0.1:{port + 1}")
    async def both():
        import asyncio
        configs = [uvicorn.Config(s.app, host="127.0.0.1", port=p, log_level="warning", date_header=False)
                   for s, p in ((main, port), (sub, port + 1))]
        servers = [uvicorn.Server(c) for c in configs]
        await asyncio.gather(*(s.serve() for s in servers))
    import asyncio
    print("ready", flush=True)
    asyncio.run(both())
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(orders: int, replicate: bool) -> dict[str, float]:
    from app.config import Settings
    from app.main import create_app

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(orders), str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready", "fake stores did not start"
        await asyncio.sleep(1.0)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                admin_token="bench-admin-token-0123456789",
                scheduler_enabled=False,
                origin_note=False,
                store_timeout_seconds=120,
                lease_seconds=600,
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                api = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://wcsync",
                    headers={"Authorization": "Bearer bench-token"},
                    timeout=3600,
                )
                for name, role, offset in (("main", "main", 0), ("sub1", "sub", 1)):
                    response = await api.post(
                        "/api/stores",
                        json={
                            "name": name,
                            "role": role,
                            "base_url": f"http://127.0.0.1:{port + offset}",
                            "consumer_key": "ck_test",
                            "consumer_secret": "cs_test",
                            "auth_mode": "basic",
                        },
                    )
                    response.raise_for_status()
                body: dict[str, object] = {"mode": "full", "direction": "main_to_sub"}
                if replicate:
                    body["since"] = "2020-01-01T00:00:00Z"
                started = time.perf_counter()
                run = (await api.post("/api/sync?wait=true", json=body)).json()
                wall = time.perf_counter() - started
                await api.aclose()
        return {
            "orders": orders,
            "walked": run["progress"]["done"],
            "created": run["counts"]["created"],
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "status": run["status"],
        }
    finally:
        server.kill()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--replicate", action="store_true", help="also copy every order (since=2020)")
    args = parser.parse_args()
    rows = []
    for n in args.orders:
        # A fresh process per size, so that each peak RSS is that size's own.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)] + (["--replicate"] if args.replicate else []),
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("".join(f"{h:>9}" for h in ("orders", "walked", "created", "wall s")) + f"{'peak RSS MB':>13}")
    for row in rows:
        cells = (row["orders"], row["walked"], row["created"], row["wall_s"])
        print("".join(f"{c:>9}" for c in cells) + f"{row['peak_rss_mb']:>13}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    if "--one" in sys.argv:
        n = int(sys.argv[sys.argv.index("--one") + 1])
        print(json.dumps(asyncio.run(measure(n, "--replicate" in sys.argv))))
    else:
        sys.exit(main())
