"""``FakeStore``: one in-memory WooCommerce store (7.8.2, or 10.6.2) behind a FastAPI app."""

from __future__ import annotations

import asyncio
import collections
import copy
import random
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request, Response
from starlette.types import Receive, Scope, Send

from app.testing.auth import ApiKey, KeyPermissions
from app.testing.catalog import DEMO_CATALOG, CatalogProduct, CatalogVariation
from app.testing.errors import CriticalError, WPError
from app.testing.knobs import (
    AFTER_CREATE_KINDS,
    AFTER_WRITE_KINDS,
    FAULT_KINDS,
    REFUND_KINDS,
    Knobs,
    ServedRequest,
    Stats,
    monotonic,
)
from app.testing.phpcompat import php_json_dumps
from app.testing.rest import (
    JSON_CONTENT_TYPE,
    NOT_FOUND_PAGE,
    RestRequest,
    RestResponse,
    dispatch,
    route_kind,
)
from app.testing.state import OrderEvent, StoreState
from app.testing.transport import ConnectionDropped, FakeStoreTransport
from app.testing.webhooks import Delivery, WebhookManager

CRITICAL_ERROR_BODY = CriticalError().body()


def _html_page(title: str, text: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{text}</p></body></html>\n"
    )


def _catalog_entry(entry: CatalogProduct) -> CatalogProduct:
    copied = CatalogProduct(
        sku=entry["sku"], name=entry["name"], price=entry["price"], stock=entry.get("stock")
    )
    if entry.get("variations"):
        copied["variations"] = [CatalogVariation(**v) for v in entry.get("variations") or []]
    return copied


def default_product_id_offset(name: str) -> int:
    """A stable per-name offset, so one SKU has different ids in different stores."""
    return 10 + 7 * (zlib.crc32(name.encode("utf-8")) % 1000)


class _DroppedResponse(Response):
    """Starts a response, sends part of the body, then breaks the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [
                    (b"content-type", JSON_CONTENT_TYPE.encode()),
                    (b"content-length", b"65536"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id":', "more_body": True})
        raise ConnectionDropped("fake store dropped the connection after the create")


class _Limiter:
    """At most ``knobs.max_concurrency`` requests in service; the rest wait in FIFO order.

    Release is synchronous, so a cancelled request can never leak a slot.
    """

    def __init__(self, knobs: Knobs, stats: Stats) -> None:
        self._knobs = knobs
        self._stats = stats
        self._waiters: deque[asyncio.Future[None]] = deque()

    def _has_room(self) -> bool:
        limit = self._knobs.max_concurrency
        return limit <= 0 or self._stats.in_flight < limit

    def _enter(self) -> None:
        stats = self._stats
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)

    async def acquire(self) -> None:
        if not self._waiters and self._has_room():
            self._enter()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        stats = self._stats
        stats.waiting += 1
        stats.max_waiting = max(stats.max_waiting, stats.waiting)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            else:
                self._waiters.remove(future)
            raise
        finally:
            stats.waiting -= 1

    def release(self) -> None:
        self._stats.in_flight -= 1
        self.wake()

    def wake(self) -> None:
        while self._waiters and self._has_room():
            future = self._waiters.popleft()
            if not future.done():
                self._enter()
                future.set_result(None)


class FakeStore:
    """An in-memory WooCommerce store answering ``/wp-json`` like the recorded ones: 7.8.2 by
    default, 10.6.2 with ``Knobs(wc_version="10.6")``.

    Use ``store.transport()`` with ``httpx.AsyncClient(base_url=store.base_url)`` in-process,
    or ``app.testing.server`` to serve it over loopback HTTP. ``storage`` picks the posts or
    HPOS quirks; ``https=False`` makes the store accept only OAuth 1.0a, as stock WooCommerce
    does over plain HTTP.
    """

    def __init__(
        self,
        name: str,
        *,
        consumer_key: str = "ck_test",
        consumer_secret: str = "cs_test",
        storage: Literal["posts", "hpos"] = "posts",
        https: bool = True,
        knobs: Knobs | None = None,
        product_id_offset: int | None = None,
        key_permissions: KeyPermissions = "read_write",
        base_url: str | None = None,
        site_title: str | None = None,
        catalog: Iterable[CatalogProduct] = (),
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        wcsync_plugin: bool = False,
    ) -> None:
        self.name = name
        # The wcsync-admin WordPress plugin with its `wcsync_origin` order filter switched on.
        self.wcsync_plugin = wcsync_plugin
        # The last requests served, as (label, raw query string), for tests to look at.
        self.recent_requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=2000)
        self.storage: Literal["posts", "hpos"] = storage
        self.https = https
        self.knobs = knobs if knobs is not None else Knobs()
        self._initial_knobs = self.knobs.to_dict()
        self.api_key = ApiKey(consumer_key, consumer_secret, key_permissions)
        self.product_id_offset = (
            product_id_offset if product_id_offset is not None else default_product_id_offset(name)
        )
        self._base_url = (base_url or f"{'https' if https else 'http'}://{name}.store.test").rstrip("/")
        # Without an explicit base_url the store adopts the URL its first request reached it
        # at, the way a WordPress site's home_url is its address.
        self._base_url_settled = base_url is not None
        self.site_title = site_title or f"WC rig {name}"
        self.webhook_transport = webhook_transport
        self._catalog: list[CatalogProduct] = [_catalog_entry(e) for e in catalog]
        self._tasks: set[asyncio.Future[Any]] = set()
        self._reset_state()
        self.app = self._build_app()

    # ---------------------------------------------------------------- state

    def _reset_state(self) -> None:
        self.stats = Stats()
        self._fail_next: deque[str] = deque()
        self._fault_rng = random.Random(self.knobs.seed)
        self._limiter = _Limiter(self.knobs, self.stats)
        self.state = StoreState(
            name=self.name,
            storage=self.storage,
            base_url=self._base_url,
            site_title=self.site_title,
            clock=self.clock,
            rng=random.Random(self.knobs.seed),
            first_post_id=self.product_id_offset,
            on_event=self._on_order_event,
            knobs=self.knobs,
        )
        self.webhooks = WebhookManager(
            state=self.state,
            clock=self.clock,
            delay_seconds=lambda: self.knobs.webhook_delay_seconds,
            transport=lambda: self.webhook_transport,
            salt=f"fake-wp-salt-{self.name}",
        )
        for entry in self._catalog:
            self.state.add_product(entry)

    def reset(self) -> None:
        """Back to the state right after construction: catalogue only, startup knobs."""
        self.webhooks.cancel()
        self.knobs.update(self._initial_knobs)
        self._reset_state()

    def reseed(self) -> None:
        self._fault_rng = random.Random(self.knobs.seed)
        self.state.rng = random.Random(self.knobs.seed)

    def _on_order_event(self, event: OrderEvent, order_id: int) -> None:
        self.webhooks.on_order_event(event, order_id)

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        """Move the store (e.g. once a server knows its port); stored links follow."""
        self._base_url_settled = True
        old, self._base_url = self._base_url, value.rstrip("/")
        if old == self._base_url:
            return
        self.state.base_url = self._base_url

        def rebase(obj: Any) -> Any:
            if isinstance(obj, str):
                return self._base_url + obj[len(old) :] if obj.startswith(old) else obj
            if isinstance(obj, list):
                return [rebase(v) for v in obj]
            if isinstance(obj, dict):
                return {k: rebase(v) for k, v in obj.items()}
            return obj

        for collection in (self.state.products, self.state.orders):
            for key, obj in list(collection.items()):
                for field in ("_links", "payment_url", "permalink"):
                    if field in obj:
                        obj[field] = rebase(obj[field])
                collection[key] = obj
        for extras in self.state.extras.values():
            extras.notes[:] = [rebase(note) for note in extras.notes]

    def clock(self) -> datetime:
        """The store's "now": real UTC time plus the skew knob, in whole seconds."""
        now = datetime.now(UTC) + timedelta(seconds=self.knobs.clock_skew_seconds)
        return now.replace(microsecond=0)

    @property
    def orders(self) -> dict[int, dict[str, Any]]:
        """Every order (trash included) exactly as ``GET /orders/{id}`` returns it."""
        return self.state.orders

    @property
    def products(self) -> dict[int, dict[str, Any]]:
        return self.state.products

    @property
    def emails(self) -> list[dict[str, Any]]:
        """Emails WooCommerce would have sent: ``{to, subject, type, order_id, date}``."""
        return self.state.emails

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    # -------------------------------------------------------------- helpers

    def add_product(
        self,
        sku: str | None,
        name: str,
        price: str,
        *,
        stock: int | None = None,
        variations: Sequence[CatalogVariation] | None = None,
    ) -> dict[str, Any]:
        """Add a product; ids continue the store's post id sequence. With ``variations`` it
        is a variable product and each variation takes the next id."""
        entry = CatalogProduct(sku=sku, name=name, price=price, stock=stock)
        if variations:
            entry["variations"] = [CatalogVariation(**v) for v in variations]
        product = self.state.add_product(entry)
        self._catalog.append(entry)
        return copy.deepcopy(product)

    def load_catalog(self, entries: Sequence[CatalogProduct] = DEMO_CATALOG) -> list[dict[str, Any]]:
        """Add products (the demo catalogue by default); they survive ``reset()``."""
        return [
            self.add_product(
                e["sku"], e["name"], e["price"], stock=e.get("stock"), variations=e.get("variations")
            )
            for e in entries
        ]

    def product_id(self, sku: str) -> int:
        return self.state.sku_index[sku]

    def set_stock(self, sku: str, stock: int | None) -> None:
        self.state.set_stock(self.product_id(sku), stock)

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
        """A customer checkout: catalogue prices, totals, store-clock dates, emails, webhooks."""
        order = self.state.place_order(
            items,
            status=status,
            billing=billing,
            customer_note=customer_note,
            meta=meta,
            shipping_total=shipping_total,
        )
        self.stats.orders_created += 1
        return copy.deepcopy(order)

    def add_line_meta(self, order_id: int, item_id: int, entries: list[tuple[str, Any]]) -> dict[str, Any]:
        """An add-on's meta on a line, a key possibly repeated (two "Engraving" entries)."""
        return copy.deepcopy(self.state.add_item_meta(order_id, item_id, entries))

    def update_order_direct(self, order_id: int, **changes: Any) -> dict[str, Any]:
        """An edit in wp-admin: REST-shaped changes, always bumping ``date_modified``.

        Extra keys: ``meta={"k": "v"}`` as a shortcut for ``meta_data``, and
        ``date_created_gmt``/``date_modified_gmt``/``date_paid_gmt``/``date_completed_gmt``
        (``YYYY-MM-DDTHH:MM:SS``) to put an order at a chosen time.
        """
        dates = {
            name: changes.pop(name)
            for name in ("date_created_gmt", "date_modified_gmt", "date_paid_gmt", "date_completed_gmt")
            if name in changes
        }
        meta = changes.pop("meta", None)
        if meta:
            changes["meta_data"] = [
                *changes.get("meta_data", []),
                *({"key": k, "value": v} for k, v in meta.items()),
            ]
        try:
            order = self.state.update_order(order_id, changes, missing_status=404, admin=True)
        except WPError as error:
            if error.code == "woocommerce_rest_shop_order_invalid_id":
                raise KeyError(order_id) from None
            raise
        for name, value in dates.items():
            self.state._set_date(order, name.removesuffix("_gmt"), value)
        if dates:
            self.state.touch(order_id)
        return copy.deepcopy(order)

    def save_items(self, order_id: int, **changes: Any) -> dict[str, Any]:
        """A save that leaves the post row alone: the admin's order items box (AJAX
        ``wc_save_order_items``) or a REST edit of lines, addresses or meta. On posts storage it
        moves no ``date_modified`` (real 7.8.2), unless the wcsync-admin plugin runs there."""
        order = self.state.update_order(order_id, changes, missing_status=404, admin=self.wcsync_plugin)
        return copy.deepcopy(order)

    def find_by_meta(self, key: str, value: Any) -> list[dict[str, Any]]:
        return copy.deepcopy(self.state.find_by_meta(key, value))

    @property
    def notes(self) -> dict[int, list[dict[str, Any]]]:
        """Order notes by order id, newest first, as ``GET /orders/{id}/notes`` lists them."""
        return {order_id: self.state.notes_of(order_id) for order_id in self.state.orders}

    @property
    def consumer_key(self) -> str:
        return self.api_key.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self.api_key.consumer_secret

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Inject ``kind`` into the next ``count`` requests (``*_after_create``: the next
        ``count`` order-creating requests; ``drop_after_write``: the next ``count`` other
        successful writes, such as an update or a refund)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._fail_next.extend([kind] * count)

    def clear_faults(self) -> None:
        """Drop the one-shot faults not yet taken."""
        self._fail_next.clear()

    @property
    def pending_faults(self) -> list[str]:
        return list(self._fail_next)

    # ----------------------------------------------------------- transport

    def transport(self) -> FakeStoreTransport:
        return FakeStoreTransport(self)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on the in-process transport, Basic auth preset. Its timeout is
        generous (httpx's 5 s default failed tests on a loaded machine); pass `timeout` to test one."""
        kwargs.setdefault("auth", (self.api_key.consumer_key, self.api_key.consumer_secret))
        kwargs.setdefault("timeout", 120.0)
        return httpx.AsyncClient(transport=self.transport(), base_url=self.base_url, **kwargs)

    def track_task(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain_webhooks(self) -> None:
        """Wait until every queued webhook delivery was attempted."""
        await self.webhooks.drain()

    async def aclose(self) -> None:
        """Cancel requests still running after their client gave up, and pending webhooks."""
        self.webhooks.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---------------------------------------------------------------- app

    def _build_app(self) -> FastAPI:
        from app.testing.control import control_router

        app = FastAPI(
            title=f"Fake WooCommerce store {self.name}",
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
        app.include_router(control_router(self), prefix="/__fake__")
        app.add_api_route(
            "/{path:path}",
            self._handle,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            include_in_schema=False,
        )
        return app

    def wake_limiter(self) -> None:
        self._limiter.wake()

    @asynccontextmanager
    async def _slot(self, label: str) -> AsyncIterator[None]:
        await self._limiter.acquire()
        started = monotonic()
        try:
            yield
        finally:
            self.stats.served.append(ServedRequest(label, started, monotonic()))
            self._limiter.release()

    def _take_fault(self, label: str = "") -> str | None:
        refund = label.startswith("POST ") and label.endswith("/refunds")
        for index, kind in enumerate(self._fail_next):
            if (
                kind in AFTER_CREATE_KINDS
                or kind in AFTER_WRITE_KINDS
                or (kind in REFUND_KINDS and not refund)
            ):
                continue
            del self._fail_next[index]
            return kind
        knobs = self.knobs
        for kind, rate in (
            ("5xx", knobs.fail_5xx_rate),
            ("429", knobs.fail_429_rate),
            ("timeout", knobs.timeout_rate),
            ("html", knobs.html_200_rate),
        ):
            if rate > 0 and self._fault_rng.random() < rate:
                return kind
        return None

    def _take_after_write_fault(self) -> str | None:
        for index, kind in enumerate(self._fail_next):
            if kind in AFTER_WRITE_KINDS:
                del self._fail_next[index]
                return kind
        return None

    def _take_after_create_fault(self) -> str | None:
        for index, kind in enumerate(self._fail_next):
            if kind in AFTER_CREATE_KINDS:
                del self._fail_next[index]
                return kind
        rate = self.knobs.timeout_after_create_rate
        if rate > 0 and self._fault_rng.random() < rate:
            return "timeout_after_create"
        return None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Date": formatdate(self.clock().timestamp(), usegmt=True)}
        if extra:
            headers.update(extra)
        return headers

    async def _fault_response(self, kind: str) -> Response:
        self.stats.faults[kind] += 1
        if kind == "timeout":
            await asyncio.sleep(self.knobs.hang_seconds)
            return Response(
                _html_page("504 Gateway Time-out", "The upstream server did not answer in time."),
                status_code=504,
                media_type="text/html; charset=UTF-8",
                headers=self._headers(),
            )
        if kind == "429":
            return Response(
                _html_page("429 Too Many Requests", "You have sent too many requests."),
                status_code=429,
                media_type="text/html; charset=UTF-8",
                headers=self._headers({"Retry-After": str(self.knobs.retry_after_seconds)}),
            )
        if kind == "refund_refused":
            return Response(
                php_json_dumps(
                    {
                        "code": "woocommerce_rest_cannot_create_order_refund",
                        "message": "Invalid refund amount.",
                        "data": 500,
                    }
                ),
                status_code=500,
                media_type=JSON_CONTENT_TYPE,
                headers=self._headers(),
            )
        if kind == "html":
            return Response(
                _html_page("Just a moment...", "Checking your browser before accessing the site."),
                status_code=200,
                media_type="text/html; charset=UTF-8",
                headers=self._headers(),
            )
        return Response(
            php_json_dumps(CRITICAL_ERROR_BODY),
            status_code=500,
            media_type=JSON_CONTENT_TYPE,
            headers=self._headers(),
        )

    def _render(self, result: RestResponse) -> Response:
        headers = self._headers(result.headers)
        if result.html:
            return Response(
                str(result.body),
                status_code=result.status,
                media_type="text/html; charset=UTF-8",
                headers=headers,
            )
        headers["Link"] = result.pagination_link or f'<{self.base_url}/wp-json/>; rel="https://api.w.org/"'
        return Response(
            php_json_dumps(result.body),
            status_code=result.status,
            media_type=JSON_CONTENT_TYPE,
            headers=headers,
        )

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        query_string = request.url.query
        if not self._base_url_settled:
            self.base_url = f"{request.url.scheme}://{request.url.netloc}"
        label = f"{request.method} {route_kind(path, query_string)}"
        self.stats.requests[label] += 1
        self.recent_requests.append((label, query_string))
        self.webhooks.schedule_pending()
        knobs = self.knobs
        if knobs.down:
            self.stats.faults["down"] += 1
            return Response(
                _html_page(
                    "503 Service Unavailable",
                    "The server is temporarily unable to service your request.",
                ),
                status_code=503,
                media_type="text/html; charset=UTF-8",
                headers=self._headers(),
            )
        body = await request.body()
        after_fault: str | None = None
        async with self._slot(label):
            if knobs.latency_base_ms > 0:
                await asyncio.sleep(knobs.latency_base_ms / 1000)
            fault = self._take_fault(label)
            if fault is not None:
                return await self._fault_response(fault)
            headers = {k.lower(): v for k, v in request.headers.items()}
            if knobs.strip_authorization:
                headers.pop("authorization", None)
            if knobs.plain_permalinks and (path == "/wp-json" or path.startswith("/wp-json/")):
                return self._render(RestResponse(status=404, body=NOT_FOUND_PAGE, html=True))
            result = await dispatch(
                self,
                RestRequest(
                    method=request.method,
                    path=path,
                    query_string=query_string,
                    headers=headers,
                    body=body,
                ),
            )
            self.stats.orders_written += result.orders_written
            self.stats.orders_created += result.orders_created
            if result.orders_written and knobs.latency_per_order_ms > 0:
                await asyncio.sleep(knobs.latency_per_order_ms * result.orders_written / 1000)
            listed = len(result.body) if request.method == "GET" and isinstance(result.body, list) else 0
            if listed and knobs.latency_per_order_read_ms > 0:
                await asyncio.sleep(knobs.latency_per_order_read_ms * listed / 1000)
            if result.orders_created:
                after_fault = self._take_after_create_fault()
            elif request.method != "GET" and result.status < 300:
                after_fault = self._take_after_write_fault()
            if after_fault is not None:
                self.stats.faults[after_fault] += 1
            if after_fault == "timeout_after_create":
                # The orders exist; the answer comes too late for a client with a timeout.
                await asyncio.sleep(knobs.hang_seconds)
            response = self._render(result)
        if after_fault in ("drop_after_create", "drop_after_write"):
            return _DroppedResponse(status_code=result.status)
        return response
