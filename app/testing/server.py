"""Serving fake stores over real HTTP on loopback.

``python -m app.testing --name main --name sub1 --port 8101 --catalog demo`` serves ``main`` on
8101 and ``sub1`` on 8102 until interrupted. In tests, ``serve_in_background`` runs one app on an
ephemeral port inside the test's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Generator, Sequence
from typing import Any

import uvicorn

from app.testing.catalog import DEMO_CATALOG
from app.testing.knobs import WC_VERSIONS, Knobs
from app.testing.store import FakeStore

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    # The store sends its own Date header (from its clock, skew included).
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        date_header=False,
        server_header=False,
        lifespan="off",
    )


@contextlib.asynccontextmanager
async def serve_in_background(
    target: FakeStore | Any, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve a store (or any ASGI app) until the block exits; yields its base URL.

    A served store's ``base_url`` becomes the real URL, so links and OAuth signatures match.
    """
    app = target.app if isinstance(target, FakeStore) else target
    server = _QuietServer(_config(app, host, port))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{host}:{bound_port}"
        if isinstance(target, FakeStore):
            target.base_url = url
        yield url
    finally:
        server.should_exit = True
        await task


async def serve_async(stores: Sequence[FakeStore], host: str, port: int) -> None:
    """Serve ``stores[i]`` on ``port + i`` until cancelled."""
    servers = []
    for offset, store in enumerate(stores):
        store.base_url = f"http://{host}:{port + offset}"
        servers.append(uvicorn.Server(_config(store.app, host, port + offset)))
        log.warning(
            "fake.store.serving name=%s url=%s storage=%s https=%s",
            store.name,
            store.base_url,
            store.storage,
            store.https,
        )
    await asyncio.gather(*(server.serve() for server in servers))


def serve(stores: list[FakeStore], host: str, port: int) -> None:
    """Blocking: one store per port, starting at ``port``."""
    asyncio.run(serve_async(stores, host, port))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.testing",
        description="Serve fake WooCommerce stores (7.8, or 10.6 with --wc-version).",
    )
    parser.add_argument("--name", action="append", required=True, help="store name; repeat for more stores")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101, help="port of the first store")
    parser.add_argument("--http", action="store_true", help="plain http: OAuth 1.0a only")
    parser.add_argument("--storage", choices=("posts", "hpos"), default="posts")
    parser.add_argument("--consumer-key", default="ck_test")
    parser.add_argument("--consumer-secret", default="cs_test")
    parser.add_argument("--key-permissions", choices=("read_write", "read", "write"), default="read_write")
    parser.add_argument("--catalog", choices=("none", "demo"), default="none")
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="docs/woocommerce-performance.md latency model: 90 ms + 130 ms per order, 2 requests at a time",
    )
    for name, default in Knobs().to_dict().items():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, dest=name, action="store_true", default=None)
        elif name == "seed" or isinstance(default, int):
            parser.add_argument(flag, dest=name, type=int, default=None)
        elif name == "wc_version":
            parser.add_argument(flag, dest=name, choices=WC_VERSIONS, default=None)
        else:
            parser.add_argument(flag, dest=name, type=float, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {
        name: getattr(args, name) for name in Knobs().to_dict() if getattr(args, name, None) is not None
    }
    stores = []
    for name in args.name:
        knobs = Knobs.realistic(**overrides) if args.realistic else Knobs(**overrides)
        stores.append(
            FakeStore(
                name,
                consumer_key=args.consumer_key,
                consumer_secret=args.consumer_secret,
                storage=args.storage,
                https=not args.http,
                knobs=knobs,
                key_permissions=args.key_permissions,
                catalog=DEMO_CATALOG if args.catalog == "demo" else (),
            )
        )
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(stores, args.host, args.port)
    return 0
