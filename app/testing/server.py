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


# What each knob (app/testing/knobs.py) does, for --help; a knob without an entry fails a test.
KNOB_HELP = {
    "latency_base_ms": "milliseconds added to every answer",
    "latency_per_order_ms": "milliseconds added per order written (batch or single)",
    "latency_per_order_read_ms": "milliseconds added per order in a listing's answer",
    "max_concurrency": "requests served at once; more wait (0: unlimited)",
    "fail_5xx_rate": "share of requests (0-1) answered 503",
    "fail_429_rate": "share of requests (0-1) answered 429 with Retry-After",
    "retry_after_seconds": "the Retry-After of those 429 answers, in seconds",
    "timeout_rate": "share of requests (0-1) that hang for --hang-seconds before any work",
    "timeout_after_create_rate": "share of creates that are made, then hang for --hang-seconds",
    "hang_seconds": "how long a hanging request hangs",
    "down": "answer every request 503, as a store that is down",
    "html_200_rate": "share of requests (0-1) answered 200 with an HTML page (a cache or WAF)",
    "clock_skew_seconds": "seconds the store's clock is ahead (negative: behind)",
    "webhook_delay_seconds": "seconds before each webhook delivery",
    "seed": "seed of the faults' random draws (repeatable runs)",
    "wc_version": "the WooCommerce line to behave as (docs/woocommerce-behaviour.md)",
    "tax_rate_percent": "one standard tax rate for every country; 0: taxes off",
    "prices_include_tax": "prices are entered with tax (WooCommerce's option)",
    "tax_round_at_subtotal": "round tax at subtotal level (WooCommerce's option)",
    "edit_while_listing": "orders of each page read by date modified that are edited just after it is read",
    "shuffle_tied_orders": "7.8 only: orders modified in the same second come in a changing order",
    "extra_statuses": "order statuses a plugin registers here, as 'slug=Label,slug=Label'",
    "strip_authorization": "drop the Authorization header before WordPress sees it (a FastCGI host)",
    "plain_permalinks": "Settings > Permalinks on Plain: /wp-json/ is not served, /?rest_route= is",
}


def build_parser(prog: str = "python -m app.testing") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve fake WooCommerce stores (7.8, or 10.6 with --wc-version) on consecutive "
        "ports, one per --name; each is driven through /__fake__/ (docs/development.md).",
    )
    parser.add_argument("--name", action="append", required=True, help="store name; repeat for more stores")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8101, help="port of the first store (default %(default)s)"
    )
    parser.add_argument("--http", action="store_true", help="plain http: OAuth 1.0a only")
    parser.add_argument(
        "--storage",
        choices=("posts", "hpos"),
        default="posts",
        help="where the store keeps orders: posts or HPOS tables (default %(default)s)",
    )
    parser.add_argument("--consumer-key", default="ck_test", help="the REST API key (default %(default)s)")
    parser.add_argument(
        "--consumer-secret", default="cs_test", help="the REST API secret (default %(default)s)"
    )
    parser.add_argument(
        "--key-permissions",
        choices=("read_write", "read", "write"),
        default="read_write",
        help="what the key may do (default %(default)s)",
    )
    parser.add_argument(
        "--catalog",
        choices=("none", "demo"),
        default="none",
        help="products to start with: none, or the demo's (default %(default)s)",
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="docs/woocommerce-performance.md latency model: 90 ms + 130 ms per order, 2 requests at a time",
    )
    for name, default in Knobs().to_dict().items():
        flag = "--" + name.replace("_", "-")
        text = KNOB_HELP.get(name, "")
        if isinstance(default, bool):
            parser.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        elif name == "seed" or isinstance(default, int):
            parser.add_argument(flag, dest=name, type=int, default=None, help=text)
        elif name == "wc_version":
            parser.add_argument(flag, dest=name, choices=WC_VERSIONS, default=None, help=text)
        elif isinstance(default, str):
            parser.add_argument(flag, dest=name, default=None, help=text)
        else:
            parser.add_argument(flag, dest=name, type=float, default=None, help=text)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m app.testing") -> int:
    args = build_parser(prog).parse_args(argv)
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
