"""Async client for one WooCommerce store's REST API (``/wp-json/wc/v3``).

Knows the API and its quirks (as recorded from WooCommerce 7.8.2 in
``tests/woocommerce/recorded``), nothing about replication. Every failure is raised as a
:class:`~app.woocommerce.errors.WooCommerceError`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.woocommerce.amounts import ORDER_DP
from app.woocommerce.auth import AuthMode, make_auth, resolve_auth_mode
from app.woocommerce.classify import (
    NotJSON,
    RequestContext,
    decode_json,
    describe_non_json,
    error_from_batch_item,
    error_from_response,
    error_from_transport,
    truncated_body,
)
from app.woocommerce.clock import Skew, SkewEstimate
from app.woocommerce.errors import (
    AuthenticationError,
    FatalError,
    MalformedResponse,
    NotFoundError,
    RetriableError,
    RouteNotFoundError,
    WooCommerceError,
)
from app.woocommerce.pacing import Pace
from app.woocommerce.redact import redact_data

logger = logging.getLogger("wcsync.woocommerce")

ALL_ORDER_STATUSES: tuple[str, ...] = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)
"""Naming every status is the only way to include trashed orders in a listing
(``status=any`` and ``any,trash`` both leave them out). A listing given exactly this tuple names
the store's own statuses too (those a plugin registers: see :meth:`WooCommerceClient.order_statuses`),
since a named list leaves out every status it does not name."""

# WooCommerce's own statuses (wc_get_order_statuses() without plugins); any other is a plugin's.
CORE_ORDER_STATUSES: frozenset[str] = frozenset(ALL_ORDER_STATUSES) - {"trash"}
# A store's registered statuses are read again after this long (and by every store check).
ORDER_STATUSES_MAX_AGE = 600.0
# What the listing's `status` enum holds beside the statuses themselves.
_STATUS_ENUM_EXTRAS = frozenset({"any", "trash", "auto-draft"})

BATCH_LIMIT = 100
MAX_PER_PAGE = 100
SITE_INDEX_FIELDS: tuple[str, ...] = (
    "name",
    "url",
    "home",
    "gmt_offset",
    "timezone_string",
    "namespaces",
    "wcsync_admin",  # the wcsync-admin plugin says here which of its options are on
)
SYSTEM_STATUS_FIELDS: tuple[str, ...] = ("environment", "database", "settings")


@dataclass
class OrderPage:
    items: list[dict[str, Any]]
    total: int | None
    total_pages: int | None
    page: int


@dataclass
class BatchItemResult:
    index: int
    order: dict[str, Any] | None
    error: WooCommerceError | None


@dataclass
class BatchResult:
    create: list[BatchItemResult]
    update: list[BatchItemResult]
    delete: list[BatchItemResult]


def format_wc_datetime(value: datetime) -> str:
    """An aware datetime as WooCommerce wants it with ``dates_are_gmt=true``: naive UTC seconds.

    Sub-second parts are dropped, which moves a cursor back by under a second; the store's
    filters are exclusive at one-second resolution, so this re-reads rather than skips.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("WooCommerce date filters need timezone-aware datetimes")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def order_list_params(
    *,
    modified_after: datetime | None = None,
    modified_before: datetime | None = None,
    after: datetime | None = None,
    status: Sequence[str] | None = None,
    page: int = 1,
    per_page: int = MAX_PER_PAGE,
    orderby: str = "modified",
    order: str = "asc",
    fields: Sequence[str] | None = None,
    include: Sequence[int] | None = None,
    exclude: Sequence[int] | None = None,
    wcsync_origin: str | None = None,
    offset: int | None = None,
) -> dict[str, str]:
    """Query parameters for ``GET /orders``. ``wcsync_origin`` is the wcsync-admin plugin's
    filter: stock WooCommerce ignores it and lists everything, so send it only to a store whose
    index advertises the filter."""
    if page < 1:
        raise ValueError("page starts at 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    if order not in ("asc", "desc"):
        raise ValueError("order must be 'asc' or 'desc'")
    if isinstance(status, str):
        raise TypeError("status is a sequence of statuses, not a string")
    params: dict[str, str] = {
        "page": str(page),
        "per_page": str(per_page),
        "orderby": orderby,
        "order": order,
        "dp": str(ORDER_DP),
    }
    if modified_after is not None:
        params["modified_after"] = format_wc_datetime(modified_after)
    if modified_before is not None:
        params["modified_before"] = format_wc_datetime(modified_before)
    if after is not None:
        params["after"] = format_wc_datetime(after)
    if modified_after is not None or modified_before is not None or after is not None:
        params["dates_are_gmt"] = "true"
    if status:
        params["status"] = ",".join(status)
    if fields:
        params["_fields"] = _fields_with_id(fields)
    if include:
        params["include"] = ",".join(str(int(order_id)) for order_id in include)
    if exclude:
        params["exclude"] = ",".join(str(int(order_id)) for order_id in exclude)
    if wcsync_origin is not None:
        params["wcsync_origin"] = wcsync_origin
    if offset is not None:
        # WordPress then ignores `page` (7.8 posts and HPOS, 10.6: checked on real stores).
        if offset < 0:
            raise ValueError("offset starts at 0")
        params["offset"] = str(offset)
    return params


def _fields_with_id(fields: Sequence[str]) -> str:
    # Pages are validated and loop-checked by id, so it is always requested.
    names = list(fields)
    if "id" not in names:
        names.insert(0, "id")
    return ",".join(names)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass
class _Reply:
    data: Any
    response: httpx.Response


class WooCommerceClient:
    """Client for one store. Owns one ``httpx.AsyncClient``; close it with :meth:`aclose`.

    ``base_url`` is the site address and may contain a path (a multisite sub-site such as
    ``https://example.com/shop2``); the API root is ``base_url + "/wp-json/wc/v3"``.
    """

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        auth_mode: AuthMode = "auto",
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        max_concurrency: int = 2,
        user_agent: str = "wcsync/0.1",
        transport: httpx.AsyncBaseTransport | None = None,
        store_name: str = "",
        start_concurrency: int | None = None,
        batch_size: int = BATCH_LIMIT,
        adaptive: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not contain a query string or fragment")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.api_root = self.base_url + "/wp-json/wc/v3"
        self.store_name = store_name
        self.auth_mode: AuthMode = resolve_auth_mode(auth_mode, base_url)
        self.timeout = timeout
        self._skew = SkewEstimate()
        # The order statuses the store registers (slug -> label) and when they were read.
        self._statuses: dict[str, str] | None = None
        self._statuses_read_at = 0.0
        self._secrets: tuple[str, ...] = (consumer_key, consumer_secret)
        # Requests at once and orders per batch; with `adaptive`, learnt from the store's answers
        # between 1 and `max_concurrency` (see app.woocommerce.pacing).
        self.pace = Pace(
            ceiling=max_concurrency,
            start=start_concurrency or max_concurrency,
            batch_max=min(batch_size, BATCH_LIMIT),
            timeout=timeout,
            adaptive=adaptive,
        )
        self._http = httpx.AsyncClient(
            auth=make_auth(self.auth_mode, consumer_key, consumer_secret, base_url),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={
                "User-Agent": user_agent,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
            },
            follow_redirects=False,
            transport=transport,
            # The stores' TLS trust (app.config.store_tls_context: WCSYNC_CA_BUNDLE); True: httpx's.
            verify=verify,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> WooCommerceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"WooCommerceClient({self.base_url!r}, store_name={self.store_name!r})"

    # -- transport ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        site_root: bool = False,
        creates_order: bool = False,
        low_priority: bool = False,
        writes: int = 0,
    ) -> _Reply:
        """Send one request and return its parsed 2xx JSON body; raise a classified error.
        `writes`: orders the request writes (a batch), reported to the pace with its time."""
        url = (self.base_url if site_root else self.api_root) + path
        log_path = path
        ctx = RequestContext(
            method=method,
            path=log_path,
            store=self.store_name,
            creates_order=creates_order,
            secrets=self._secrets,
        )
        started = time.perf_counter()
        try:
            async with self.pace.slots.held(low=low_priority):
                # The deadline starts once a slot is free, so a request that timed out while
                # queued was never sent. httpx.ASGITransport ignores httpx timeouts; this does not.
                in_flight, epoch = self.pace.in_flight(), self.pace.epoch_id
                served_from = time.perf_counter()
                async with asyncio.timeout(self.timeout):
                    sent_at = datetime.now(UTC)
                    response = await self._http.request(
                        method,
                        url,
                        params=params,
                        json=json_body,
                        # The site index is public; no need to spend an OAuth nonce on it.
                        auth=None if site_root else httpx.USE_CLIENT_DEFAULT,
                    )
                served = time.perf_counter() - served_from
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, TimeoutError) as exc:
            error = error_from_transport(exc, ctx, self.timeout)
            self._log_failure(ctx, error, started)
            if isinstance(error, RetriableError):
                self.pace.backoff(error.kind or "no answer")
            raise error from None

        self._record_clock_skew(response, sent_at)
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            text = response.content.decode("utf-8", errors="replace")

        if not response.is_success:
            error = error_from_response(
                status=response.status_code, headers=response.headers, text=text, ctx=ctx
            )
            self._log_failure(ctx, error, started)
            if isinstance(error, RetriableError):
                self.pace.backoff(f"HTTP {response.status_code}")
            raise error
        if writes:
            self.pace.observe_write(writes, served, in_flight, epoch)

        try:
            data = decode_json(text)
        except NotJSON:
            error = MalformedResponse(
                describe_non_json(
                    text,
                    response.headers.get("content-type", ""),
                    response.status_code,
                    self._secrets,
                ),
                status=response.status_code,
                body=truncated_body(text, self._secrets),
                ambiguous=ctx.unsafe,
                store=self.store_name,
                method=method,
                path=log_path,
            )
            self._log_failure(ctx, error, started)
            raise error from None

        logger.info(
            "wc.request store=%s method=%s path=%s status=%d ms=%d",
            self.store_name,
            method,
            log_path,
            response.status_code,
            _elapsed_ms(started),
        )
        return _Reply(data=data, response=response)

    def _log_failure(self, ctx: RequestContext, error: WooCommerceError, started: float) -> None:
        kind = getattr(error, "kind", None) or type(error).__name__
        logger.warning(
            "wc.request.failed store=%s method=%s path=%s status=%s code=%s error=%s ambiguous=%s ms=%d",
            ctx.store,
            ctx.method,
            ctx.path,
            error.status if error.status is not None else "-",
            error.code or "-",
            kind,
            error.ambiguous,
            _elapsed_ms(started),
        )

    @property
    def clock_skew(self) -> float | None:
        """The store's clock minus ours in seconds (see app.woocommerce.clock), or None."""
        return self._skew.seconds

    def skew(self, *, since: datetime | None = None) -> Skew | None:
        """The store's clock against ours with its error bound, from replies read since `since`."""
        return self._skew.skew(since=since)

    async def measure_clock(self) -> Skew:
        """Read the store's clock now with one cheap request (one order id), and return the
        estimate including it."""
        since = datetime.now(UTC)
        await self._send("GET", "/orders", params={"per_page": "1", "_fields": "id"})
        skew = self._skew.skew(since=since)
        if skew is None:
            raise MalformedResponse(
                "the store's replies carry no Date header, so its clock cannot be read",
                status=200,
                store=self.store_name,
                method="GET",
                path="/orders",
            )
        return skew

    def _record_clock_skew(self, response: httpx.Response, sent_at: datetime) -> None:
        received_at = datetime.now(UTC)
        date_header = response.headers.get("date")
        if not date_header:
            return
        try:
            server_now = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return
        if server_now.tzinfo is None:
            server_now = server_now.replace(tzinfo=UTC)
        self._skew.add(server_now, sent=sent_at, received=received_at)

    def _malformed(self, reply: _Reply, what: str, method: str, path: str) -> MalformedResponse:
        return MalformedResponse(
            f"store returned JSON of the wrong shape for {method} {path}: {what}",
            status=reply.response.status_code,
            body=_shape_summary(redact_data(reply.data, self._secrets)),
            ambiguous=method.upper() not in ("GET", "HEAD", "OPTIONS"),
            store=self.store_name,
            method=method,
            path=path,
        )

    def _expect_object(
        self, reply: _Reply, method: str, path: str, *, require_id: bool = True
    ) -> dict[str, Any]:
        data = reply.data
        if not isinstance(data, dict):
            raise self._malformed(reply, f"expected an object, got {_json_type(data)}", method, path)
        if require_id and not _is_id(data.get("id")):
            raise self._malformed(reply, "expected an object with an integer 'id'", method, path)
        return data

    def _expect_list(
        self, reply: _Reply, method: str, path: str, *, require_id: bool = True
    ) -> list[dict[str, Any]]:
        data = reply.data
        if not isinstance(data, list):
            raise self._malformed(reply, f"expected a list, got {_json_type(data)}", method, path)
        for position, item in enumerate(data):
            if not isinstance(item, dict):
                raise self._malformed(
                    reply, f"item {position} is {_json_type(item)}, not an object", method, path
                )
            if require_id and not _is_id(item.get("id")):
                raise self._malformed(reply, f"item {position} has no integer 'id'", method, path)
        return data

    async def _get_page(self, path: str, params: Mapping[str, str], page: int) -> OrderPage:
        reply = await self._send("GET", path, params=params)
        items = self._expect_list(reply, "GET", path)
        headers = reply.response.headers
        return OrderPage(
            items=items,
            total=_int_header(headers, "x-wp-total"),
            total_pages=_int_header(headers, "x-wp-totalpages"),
            page=page,
        )

    async def _paginate(
        self, fetch: Callable[[int], Awaitable[OrderPage]], per_page: int, path: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Walk pages from 1 until the last page the store reports, or an empty or short page,
        refusing to loop on a store (or a cache) that ignores the page parameter."""
        page = 1
        previous_ids: list[Any] | None = None
        while True:
            result = await fetch(page)
            if not result.items:
                return
            ids = [item["id"] for item in result.items]
            if ids == previous_ids:
                raise MalformedResponse(
                    f"page {page} of GET {path} repeats page {page - 1} (the store or a cache "
                    "in front of it ignores the page parameter); refusing to loop",
                    status=200,
                    store=self.store_name,
                    method="GET",
                    path=path,
                )
            yield result.items
            if len(result.items) < per_page:
                return
            # A page past the end reports 0/0 totals on HPOS (recorded 04), so only pages that
            # had items update the bound.
            if result.total_pages is not None and page >= result.total_pages:
                return  # the last page: no need to ask for an empty one
            previous_ids = ids
            page += 1

    # -- orders ------------------------------------------------------------------------------

    async def list_orders(
        self,
        *,
        modified_after: datetime | None = None,
        modified_before: datetime | None = None,
        after: datetime | None = None,
        status: Sequence[str] | None = None,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        orderby: str = "modified",
        order: str = "asc",
        fields: Sequence[str] | None = None,
        include: Sequence[int] | None = None,
        exclude: Sequence[int] | None = None,
        wcsync_origin: str | None = None,
        offset: int | None = None,
    ) -> OrderPage:
        """One page of ``GET /orders``.

        ``modified_after``/``after`` are exclusive at one-second resolution on the store (recorded
        08): re-read with an overlap. Trashed orders are listed only if ``status`` names
        ``trash`` (see :data:`ALL_ORDER_STATUSES`). Totals of a page past the end are not
        reliable (recorded 04). ``offset`` skips that many matching orders (``page`` is then
        ignored). ``status=ALL_ORDER_STATUSES`` names every status the store
        registers, a plugin's too (read once in a while: :meth:`order_statuses`).
        """
        every = status is not None and tuple(status) == ALL_ORDER_STATUSES
        for attempt in (1, 2):
            params = order_list_params(
                modified_after=modified_after,
                modified_before=modified_before,
                after=after,
                status=await self.every_status() if every else status,
                page=page,
                per_page=per_page,
                orderby=orderby,
                order=order,
                fields=fields,
                include=include,
                exclude=exclude,
                wcsync_origin=wcsync_origin,
                offset=offset,
            )
            try:
                return await self._get_page("/orders", params, page)
            except FatalError as exc:
                # A plugin's status named here was unregistered since it was read (the plugin
                # was turned off): WooCommerce refuses the whole listing; read them again.
                if not (every and attempt == 1 and _refuses_status(exc)):
                    raise
                self.forget_order_statuses()
        raise AssertionError("unreachable")

    async def iter_orders(
        self,
        *,
        modified_after: datetime | None = None,
        after: datetime | None = None,
        status: Sequence[str] | None = None,
        per_page: int = MAX_PER_PAGE,
        orderby: str = "modified",
        order: str = "asc",
        fields: Sequence[str] | None = None,
        include: Sequence[int] | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield every page of a listing; stops on an empty or short page.

        Raises :class:`MalformedResponse` if a page repeats the previous one or the walk goes
        past ``X-WP-TotalPages + 1``.
        """
        base = order_list_params(
            modified_after=modified_after,
            after=after,
            status=await self.every_status()
            if status is not None and tuple(status) == ALL_ORDER_STATUSES
            else status,
            per_page=per_page,
            orderby=orderby,
            order=order,
            fields=fields,
            include=include,
        )

        async def fetch(page: int) -> OrderPage:
            return await self._get_page("/orders", {**base, "page": str(page)}, page)

        async for items in self._paginate(fetch, per_page, "/orders"):
            yield items

    async def get_order(self, order_id: int) -> dict[str, Any]:
        """``GET /orders/{id}``; a trashed order comes back with ``status: "trash"``."""
        path = f"/orders/{int(order_id)}"
        params = {"dp": str(ORDER_DP)}
        return self._expect_object(await self._send("GET", path, params=params), "GET", path)

    async def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /orders``.

        A 4xx here can still leave an order behind (recorded 43: an unknown coupon gives 400
        after the order was saved); such errors are marked ``ambiguous``.
        """
        path = "/orders"
        reply = await self._send("POST", path, json_body=payload, creates_order=True)
        return self._expect_object(reply, "POST", path)

    async def update_order(self, order_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """``PUT /orders/{id}``; a missing order raises NotFoundError (the store answers 400)."""
        path = f"/orders/{int(order_id)}"
        return self._expect_object(await self._send("PUT", path, json_body=payload), "PUT", path)

    async def delete_order(self, order_id: int, *, force: bool = False) -> dict[str, Any]:
        """``DELETE /orders/{id}``: trash it, or delete it for good with ``force``.

        Returns the order as it was before trashing. Trashing an order already in the trash is
        a FatalError with code ``woocommerce_rest_already_trashed`` (HTTP 410).
        """
        path = f"/orders/{int(order_id)}"
        params = {"force": "true"} if force else None
        return self._expect_object(await self._send("DELETE", path, params=params), "DELETE", path)

    async def batch_orders(
        self,
        *,
        create: Sequence[dict[str, Any]] = (),
        update: Sequence[dict[str, Any]] = (),
        delete: Sequence[int] = (),
    ) -> BatchResult:
        """``POST /orders/batch``; results are matched to the request by position.

        Items succeed or fail on their own (there is no transaction); batch deletes are
        permanent, and batch creates skip the REST schema validation (recorded 23). An empty
        batch is still sent: it changes nothing and tells whether the key may write.
        """
        count = len(create) + len(update) + len(delete)
        if count > BATCH_LIMIT:
            raise ValueError(f"a batch takes at most {BATCH_LIMIT} items, got {count}")
        for position, item in enumerate(update):
            if not _is_id(item.get("id")):
                raise ValueError(f"update item {position} has no integer 'id'")
        body: dict[str, Any] = {}
        if create:
            body["create"] = list(create)
        if update:
            body["update"] = list(update)
        if delete:
            body["delete"] = [int(order_id) for order_id in delete]
        path = "/orders/batch"
        reply = await self._send("POST", path, json_body=body, writes=len(create) + len(update))
        data = reply.data
        if count == 0 and data in ([], {}):
            # PHP encodes the empty result as `[]`.
            return BatchResult(create=[], update=[], delete=[])
        if not isinstance(data, dict):
            raise self._malformed(reply, f"expected an object, got {_json_type(data)}", "POST", path)

        posted_ids: dict[str, list[int | None]] = {
            "create": [None] * len(create),
            "update": [int(item["id"]) for item in update],
            "delete": [int(order_id) for order_id in delete],
        }
        sections: dict[str, list[BatchItemResult]] = {}
        for section, expected_ids in posted_ids.items():
            sections[section] = self._batch_section(reply, section, expected_ids, path)
        return BatchResult(create=sections["create"], update=sections["update"], delete=sections["delete"])

    def _batch_section(
        self, reply: _Reply, section: str, expected_ids: list[int | None], path: str
    ) -> list[BatchItemResult]:
        if not expected_ids:
            return []
        entries = reply.data.get(section)
        if not isinstance(entries, list) or len(entries) != len(expected_ids):
            got = len(entries) if isinstance(entries, list) else _json_type(entries)
            raise self._malformed(
                reply,
                f"'{section}' should hold {len(expected_ids)} results, got {got}",
                "POST",
                path,
            )
        ctx = RequestContext(
            method="POST",
            path=path,
            store=self.store_name,
            creates_order=section == "create",
            secrets=self._secrets,
        )
        results: list[BatchItemResult] = []
        for index, (entry, expected_id) in enumerate(zip(entries, expected_ids, strict=True)):
            if not isinstance(entry, dict):
                raise self._malformed(
                    reply, f"'{section}' result {index} is {_json_type(entry)}", "POST", path
                )
            if expected_id is not None and _is_id(entry.get("id")) and entry["id"] != expected_id:
                raise self._malformed(
                    reply,
                    f"'{section}' result {index} is for id {entry['id']}, "
                    f"but id {expected_id} was sent there",
                    "POST",
                    path,
                )
            if "error" in entry:
                error = error_from_batch_item(entry["error"], ctx)
                results.append(BatchItemResult(index=index, order=None, error=error))
            elif _is_id(entry.get("id")):
                results.append(BatchItemResult(index=index, order=entry, error=None))
            else:
                raise self._malformed(
                    reply, f"'{section}' result {index} has neither 'id' nor 'error'", "POST", path
                )
        return results

    # -- products ----------------------------------------------------------------------------

    async def products_by_sku(self, sku: str) -> list[dict[str, Any]]:
        """``GET /products?sku=``: the products with this SKU, ``[]`` when there is none."""
        path = "/products"
        reply = await self._send("GET", path, params={"sku": sku})
        products = self._expect_list(reply, "GET", path)
        if "," in sku:
            # The store splits the parameter on commas and also matches each part.
            products = [p for p in products if str(p.get("sku", "")).lower() == sku.lower()]
        return products

    async def products_by_skus(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        """``GET /products?sku=a,b,c``: simple products and variations alike (recorded v03b), up
        to 100 SKUs a request. SKUs containing a comma cannot be asked this way."""
        wanted = [sku for sku in skus if sku and "," not in sku]
        if not wanted:
            return []
        path = "/products"
        params = {
            "sku": ",".join(wanted),
            "per_page": str(MAX_PER_PAGE),
            "_fields": "id,sku,name,type,parent_id",
        }
        return self._expect_list(await self._send("GET", path, params=params), "GET", path)

    async def product_variations(self, product_id: int) -> list[dict[str, Any]]:
        """``GET /products/{id}/variations``: the variations of a variable product, which the
        product listing never includes (recorded v04b). Their bodies carry no ``parent_id``."""
        path = f"/products/{int(product_id)}/variations"
        found: list[dict[str, Any]] = []
        base = {"per_page": str(MAX_PER_PAGE), "orderby": "id", "order": "asc", "_fields": "id,sku,name"}

        async def fetch(page: int) -> OrderPage:
            return await self._get_page(path, {**base, "page": str(page)}, page)

        async for items in self._paginate(fetch, MAX_PER_PAGE, path):
            found += items
        return found

    async def iter_products(
        self, *, fields: Sequence[str] = ("id", "sku", "name", "type", "parent_id", "variations")
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield every page of products, oldest id first (stable while products are added)."""
        base = {
            "per_page": str(MAX_PER_PAGE),
            "orderby": "id",
            "order": "asc",
            "_fields": _fields_with_id(fields),
        }

        async def fetch(page: int) -> OrderPage:
            return await self._get_page("/products", {**base, "page": str(page)}, page)

        async for items in self._paginate(fetch, MAX_PER_PAGE, "/products"):
            yield items

    # -- notes and refunds -------------------------------------------------------------------

    async def list_order_notes(self, order_id: int) -> list[dict[str, Any]]:
        """``GET /orders/{id}/notes``, newest first. Note texts may contain HTML entities."""
        path = f"/orders/{int(order_id)}/notes"
        return self._expect_list(await self._send("GET", path), "GET", path)

    async def create_order_note(
        self, order_id: int, note: str, *, customer_note: bool = False, low_priority: bool = False
    ) -> dict[str, Any]:
        """``POST /orders/{id}/notes``. Adding a note does not move the order's modified date.
        A `low_priority` note waits while any other request waits for a slot."""
        path = f"/orders/{int(order_id)}/notes"
        body = {"note": note, "customer_note": customer_note}
        reply = await self._send("POST", path, json_body=body, low_priority=low_priority)
        return self._expect_object(reply, "POST", path)

    async def create_refund(self, order_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /orders/{id}/refunds``.

        On HPOS stores (7.8.2) the reply shows ``amount "0.00"`` and ``reason ""`` although the
        refund is stored correctly; read amounts from the order's ``refunds[]`` (recorded 32).
        """
        path = f"/orders/{int(order_id)}/refunds"
        return self._expect_object(await self._send("POST", path, json_body=payload), "POST", path)

    async def list_refunds(self, order_id: int) -> list[dict[str, Any]]:
        """``GET /orders/{id}/refunds`` (up to 100, newest first), with each refund's meta and
        lines. On HPOS 7.8.2 ``amount`` and ``reason`` read back empty (recorded v09c)."""
        path = f"/orders/{int(order_id)}/refunds"
        params = {"per_page": str(MAX_PER_PAGE)}
        return self._expect_list(await self._send("GET", path, params=params), "GET", path)

    # -- webhooks ----------------------------------------------------------------------------

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """Every webhook on the store. Secrets are write-only and never listed."""
        base = {"per_page": str(MAX_PER_PAGE), "orderby": "id", "order": "asc"}

        async def fetch(page: int) -> OrderPage:
            return await self._get_page("/webhooks", {**base, "page": str(page)}, page)

        webhooks: list[dict[str, Any]] = []
        async for items in self._paginate(fetch, MAX_PER_PAGE, "/webhooks"):
            webhooks.extend(items)
        return webhooks

    async def create_webhook(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /webhooks``; keep your own copy of the secret, the store never returns it."""
        path = "/webhooks"
        return self._expect_object(await self._send("POST", path, json_body=payload), "POST", path)

    async def update_webhook(self, webhook_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        path = f"/webhooks/{int(webhook_id)}"
        return self._expect_object(await self._send("PUT", path, json_body=payload), "PUT", path)

    async def delete_webhook(self, webhook_id: int) -> dict[str, Any]:
        """``DELETE /webhooks/{id}?force=true`` (webhooks cannot be trashed: 501 without force)."""
        path = f"/webhooks/{int(webhook_id)}"
        reply = await self._send("DELETE", path, params={"force": "true"})
        return self._expect_object(reply, "DELETE", path)

    # -- order statuses ----------------------------------------------------------------------

    async def order_statuses(self, *, max_age: float = ORDER_STATUSES_MAX_AGE) -> dict[str, str]:
        """Every order status the store registers, WooCommerce's and its plugins' (slug without
        ``wc-`` -> label), read at most every ``max_age`` seconds.

        ``GET /reports/orders/totals`` lists each status of ``wc_get_order_statuses()`` (7.8 and
        10.6 alike); a key whose user may not view reports falls back to the ``status`` enum of
        ``OPTIONS /orders`` (slugs only). A status the store lacks must never be written there:
        a batch update to it is answered 200 with the order set to ``pending``."""
        if self._statuses is not None and time.monotonic() - self._statuses_read_at < max_age:
            return dict(self._statuses)
        try:
            reply = await self._send("GET", "/reports/orders/totals")
            rows = self._expect_list(reply, "GET", "/reports/orders/totals", require_id=False)
            found = {
                str(row["slug"]): str(row.get("name") or row["slug"])
                for row in rows
                if isinstance(row.get("slug"), str) and row["slug"]
            }
        except (AuthenticationError, RouteNotFoundError, NotFoundError):
            found = await self._statuses_from_schema()
        if not found:
            raise MalformedResponse(
                "the store listed no order status at all (GET /reports/orders/totals)",
                status=200,
                store=self.store_name,
                method="GET",
                path="/reports/orders/totals",
            )
        self._statuses, self._statuses_read_at = found, time.monotonic()
        return dict(found)

    async def _statuses_from_schema(self) -> dict[str, str]:
        reply = await self._send("OPTIONS", "/orders")
        data = self._expect_object(reply, "OPTIONS", "/orders", require_id=False)
        try:
            enum = data["schema"]["properties"]["status"]["enum"]
        except (KeyError, TypeError):
            enum = []
        return {str(s): str(s) for s in enum if isinstance(s, str) and s not in _STATUS_ENUM_EXTRAS}

    def forget_order_statuses(self) -> None:
        """Read the store's statuses again before they are next needed."""
        self._statuses = None

    @property
    def known_order_statuses(self) -> dict[str, str] | None:
        """The statuses as last read (None: not read yet), without a request."""
        return None if self._statuses is None else dict(self._statuses)

    async def every_status(self) -> tuple[str, ...]:
        """:data:`ALL_ORDER_STATUSES` and every other status the store registers: a listing that
        names statuses (the only way to include trash) leaves out every status it does not name,
        so an order moved to a plugin's status would never be seen again."""
        registered = await self.order_statuses()
        return (*ALL_ORDER_STATUSES, *(s for s in registered if s not in ALL_ORDER_STATUSES))

    # -- site --------------------------------------------------------------------------------

    async def site_index(self, *, fields: Sequence[str] | None = SITE_INDEX_FIELDS) -> dict[str, Any]:
        """``GET {base_url}/wp-json/`` without credentials: ``timezone_string``, ``gmt_offset``,
        ``namespaces``. An HTML answer here usually means pretty permalinks are off."""
        params = {"_fields": ",".join(fields)} if fields else None
        try:
            reply = await self._send("GET", "/wp-json/", params=params, site_root=True)
            return self._expect_object(reply, "GET", "/wp-json/", require_id=False)
        except (MalformedResponse, FatalError) as exc:
            # With plain permalinks WordPress answers /wp-json/ with its home page (6.1) or a
            # redirect to the same URL (6.8), while /?rest_route=/ still serves the index. A store
            # is unusable so (WooCommerce takes keys only on /wp-json/ URLs): name the setting.
            redirected = exc.status is not None and 300 <= exc.status < 400
            if not (isinstance(exc, MalformedResponse) or redirected) or not await self._rest_route_answers():
                raise
            raise RouteNotFoundError(
                f"/wp-json/ does not reach the REST API ({exc.message}) but /?rest_route=/ does: "
                "the site has plain permalinks",
                status=exc.status,
                body=exc.body,
                store=self.store_name,
                method="GET",
                path="/wp-json/",
            ) from None

    async def _rest_route_answers(self) -> bool:
        """Whether ``{base_url}/?rest_route=/`` serves the REST index (it does whatever the
        permalinks)."""
        try:
            reply = await self._send(
                "GET", "/", params={"rest_route": "/", "_fields": "namespaces"}, site_root=True
            )
        except WooCommerceError:
            return False
        return isinstance(reply.data, dict) and isinstance(reply.data.get("namespaces"), list)

    async def plain_site_index(self) -> dict[str, Any]:
        """``GET {base_url}/?rest_route=/``: WordPress's REST index by the address that works
        with plain permalinks too. Tells a WordPress whose /wp-json/ is missing from no
        WordPress at all."""
        params = {"rest_route": "/", "_fields": "namespaces"}
        reply = await self._send("GET", "/", params=params, site_root=True)
        return self._expect_object(reply, "GET", "/?rest_route=/", require_id=False)

    async def general_setting(self, name: str) -> Any:
        """``GET /settings/general/{name}``: the option's ``value`` (e.g.
        ``woocommerce_price_num_decimals``, a string such as ``"3"``). The key's user needs
        ``manage_woocommerce``."""
        path = f"/settings/general/{name}"
        reply = self._expect_object(await self._send("GET", path), "GET", path, require_id=False)
        return reply.get("value")

    async def system_status(self, *, fields: Sequence[str] | None = SYSTEM_STATUS_FIELDS) -> dict[str, Any]:
        """``GET /system_status``; ``settings.HPOS_enabled`` tells the order storage apart.

        It has no store timezone (use :meth:`site_index`). ``fields=None`` fetches everything,
        which is slow on large stores.
        """
        path = "/system_status"
        params = {"_fields": ",".join(fields)} if fields else None
        reply = await self._send("GET", path, params=params)
        return self._expect_object(reply, "GET", path, require_id=False)


def _refuses_status(error: WooCommerceError) -> bool:
    """A listing refused because a status it names is not registered (rest_invalid_param on
    ``status``)."""
    if error.status != 400 or error.code != "rest_invalid_param":
        return False
    body = error.body if isinstance(error.body, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    params = data.get("params") if isinstance(data, dict) else None
    return isinstance(params, dict) and "status" in params


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def _shape_summary(data: Any) -> Any:
    """Keep a wrong-shaped body small enough to store on the error."""
    if isinstance(data, list):
        return {"type": "list", "length": len(data), "first": data[0] if data else None}
    return data


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
