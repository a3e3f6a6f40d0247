"""The ``/wp-json`` REST surface of a fake store, dispatched the way WordPress does it.

Order of checks, as WordPress 6.1 / WooCommerce 7.8 apply them:

1. authentication (only for URLs under ``/wp-json/wc/``): a bad credential is a 401 at once;
2. the key's read/write scope against the real HTTP method (``rest_pre_dispatch``);
3. route matching (``rest_no_route``), with ``X-HTTP-Method-Override``/``_method`` honoured;
4. argument validation (``rest_invalid_json``, ``rest_invalid_param``);
5. the route's permission check (anonymous requests get ``cannot_view``/``cannot_create``/...);
6. the handler.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.testing.auth import Identity, authenticate, check_key_permissions
from app.testing.catalog import variation_route_view
from app.testing.errors import NO_ROUTE, CriticalError, WPError, invalid_params, missing_params
from app.testing.listing import (
    ParamProblems,
    as_boolean,
    as_integer,
    as_list,
    enum_message,
    filter_fields,
    link_header,
    paginate,
    parse_fields,
    parse_order_query,
    parse_paging,
    select_orders,
    shuffle_ties,
    with_dp,
)
from app.testing.phpcompat import php_parse_str
from app.testing.state import (
    ORDER_STATUSES,
    STATUS_LABELS,
    WRITABLE_STATUS_ENUM,
    StoreState,
    with_target_hints,
)

if TYPE_CHECKING:
    from app.testing.store import FakeStore

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

LIST = ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
VIEW = ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
CREATE = ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
EDIT = ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
DELETE = ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
BATCH = (
    "woocommerce_rest_cannot_batch",
    "Sorry, you are not allowed to batch manipulate this resource.",
)
BATCH_LIMIT = 100
# nginx's default `large_client_header_buffers 4 8k`: the request line (with its CRLF) must fit in
# one 8 KB buffer, else 414 before PHP sees anything (Apache's LimitRequestLine is 8190).
REQUEST_LINE_LIMIT = 8192
URI_TOO_LONG_PAGE = (
    "<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>414 Request-URI Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class RestRequest:
    method: str  # as sent on the wire
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class RestResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    html: bool = False
    orders_written: int = 0
    orders_created: int = 0
    # Set when the response replaces WordPress's default api.w.org Link.
    pagination_link: str | None = None


@dataclass
class Context:
    store: FakeStore
    request: RestRequest
    method: str  # after X-HTTP-Method-Override
    query: dict[str, Any]
    identity: Identity
    match: dict[str, str]
    _body: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON (or form) body params; malformed JSON is ``rest_invalid_json`` (28)."""
        if self._body is None:
            self._body = parse_body(self.request)
        return self._body

    def params(self) -> dict[str, Any]:
        """WordPress's merged params: the body wins over the query string."""
        return {**self.query, **self.body()}

    def require(self, permission: tuple[str, str]) -> None:
        if not self.identity.authenticated:
            raise WPError(permission[0], permission[1], 401)

    def int_arg(self, name: str) -> int:
        return int(self.match[name])


Handler = Callable[[Context], Awaitable[RestResponse]]


@dataclass
class Route:
    kind: str
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]


def parse_body(request: RestRequest) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not request.body:
        return {}
    if content_type == "application/x-www-form-urlencoded":
        return php_parse_str(request.body.decode("utf-8", "replace"))
    if content_type != "application/json":
        return {}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise WPError(
            "rest_invalid_json",
            "Invalid JSON body passed.",
            400,
            extra={
                "json_error_code": 5,
                "json_error_message": "Malformed UTF-8 characters, possibly incorrectly encoded",
            },
        ) from None
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        raise WPError(
            "rest_invalid_json",
            "Invalid JSON body passed.",
            400,
            extra={"json_error_code": 4, "json_error_message": "Syntax error"},
        ) from None
    return decoded if isinstance(decoded, dict) else {}


def json_response(status: int, body: Any, **kwargs: Any) -> RestResponse:
    return RestResponse(status=status, body=body, **kwargs)


def error_response(error: WPError) -> RestResponse:
    return RestResponse(status=error.http_status, body=error.body())


# ------------------------------------------------------------------ validation


def validate_order_body(body: dict[str, Any], extra_statuses: Sequence[str] = ()) -> None:
    """The order schema checks WordPress runs before ``POST``/``PUT`` (a batch skips them)."""
    problems = ParamProblems()

    def integer(name: str) -> None:
        value = body[name]
        if isinstance(value, bool) or not (
            isinstance(value, int) or isinstance(value, str) and value.strip().lstrip("-").isdigit()
        ):
            problems.add(name, "rest_invalid_type", f"{name} is not of type integer.")

    if "parent_id" in body:
        integer("parent_id")
    if "status" in body:
        status = body["status"]
        enum = (*WRITABLE_STATUS_ENUM, *extra_statuses)
        if not isinstance(status, str) or status not in enum:
            problems.add("status", "rest_not_in_enum", enum_message("status", enum))
    if "customer_id" in body:
        integer("customer_id")
    for name in ("billing", "shipping"):
        if name in body and not isinstance(body[name], dict):
            problems.add(name, "rest_invalid_type", f"{name} is not of type object.")
    for name in ("meta_data", "line_items", "shipping_lines", "fee_lines", "coupon_lines"):
        if name in body and not isinstance(body[name], list):
            problems.add(name, "rest_invalid_type", f"{name} is not of type array.")
    if "set_paid" in body:
        value = body["set_paid"]
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            body["set_paid"] = value.lower() in ("true", "1")
        elif not isinstance(value, bool):
            problems.add("set_paid", "rest_invalid_type", "set_paid is not of type boolean.")
    problems.raise_if_any()


def parse_force(ctx: Context) -> bool:
    problems = ParamProblems()
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in ctx.params().items()}
    force = as_boolean(params, "force", problems)
    problems.raise_if_any()
    return bool(force)


def shown_with_dp(state: StoreState, order: dict[str, Any], dp: int) -> dict[str, Any]:
    """An order read with ``dp``: its amounts as the store keeps them, to ``dp`` places."""
    return with_dp(
        order, dp, state.exact_amount, stored=state.price_decimals, taxes_follow_dp=state.version != "7.8"
    )


def parse_dp(ctx: Context) -> int:
    """``dp``, by default the store's price decimals."""
    problems = ParamProblems()
    dp = as_integer(ctx.query, "dp", problems)
    problems.raise_if_any()
    return abs(dp) if dp is not None else ctx.store.state.price_decimals


def single(ctx: Context, obj: dict[str, Any], status: int = 200, **kwargs: Any) -> RestResponse:
    """One resource: ``_fields`` filters it, but its ``_links`` survive (added after filters)."""
    fields = parse_fields(ctx.query)
    if fields is not None:
        links = obj.get("_links")
        filtered = filter_fields(obj, fields, keep_id="id" in obj)
        if links is not None:
            filtered["_links"] = links
        obj = filtered
    return json_response(status, obj, **kwargs)


# ---------------------------------------------------------------------- orders


async def list_orders(ctx: Context) -> RestResponse:
    query = parse_order_query(ctx.query, list(ctx.store.state.knobs.registered_extra_statuses()))
    ctx.require(LIST)
    state = ctx.store.state
    if state.version == "7.8":
        query.created_via = None
    rows = select_orders(state, query)
    origin = ctx.query.get("wcsync_origin")
    if ctx.store.wcsync_plugin and isinstance(origin, str):
        # The wcsync-admin plugin's meta filter (off in stock WooCommerce, which ignores the
        # parameter and lists everything).
        rows = [
            o
            for o in rows
            if any(
                m.get("key") == "_wcsync_origin" and m.get("value") == origin
                for m in o.get("meta_data") or []
            )
        ]
    knobs = ctx.store.knobs
    if knobs.shuffle_tied_orders and state.version == "7.8" and query.orderby == "modified":
        rows = shuffle_ties(rows, state.rng)
    page = paginate(rows, query.paging, empty_page_zeroes_totals=state.storage == "hpos")
    fields = parse_fields(ctx.query)
    # A walk over changed orders: by modified time, or any order bounded by modified dates (one
    # crowded second read by id).
    changed_walk = query.orderby == "modified" or bool(query.modified_after or query.modified_before)
    edits = knobs.edit_while_listing if changed_walk else 0
    items = []
    for order in page.items:
        dp = query.dp if "dp" in query.paging.sanitized else state.price_decimals
        rendered = shown_with_dp(state, state.present_order(order), dp)
        if edits > 0:
            # The edit below must not reach this page's body, which is rendered later.
            rendered = copy.deepcopy(rendered)
        items.append(filter_fields(rendered, fields, keep_id=True) if fields else rendered)
    for order in page.items[: max(0, edits)]:
        # Between this page and the client's next request the shop edits an order it has
        # already read: it moves to the end and every later order moves up one place.
        state.edit_while_listed(order["id"])
    link = link_header(
        collection_url=f"{ctx.store.base_url}/wp-json/wc/v3/orders",
        sent=ctx.query,
        paging=query.paging,
        total_pages=page.total_pages,
        appended={"status": query.statuses},
        defaults_if_rendered={"dp": 2, "context": "view"},
        rendered=bool(items),
    )
    return json_response(
        200,
        items,
        headers={"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)},
        pagination_link=link,
    )


async def create_order(ctx: Context) -> RestResponse:
    body = ctx.body()
    validate_order_body(body, list(ctx.store.state.knobs.registered_extra_statuses()))
    ctx.require(CREATE)
    state = ctx.store.state
    result = state.create_order(body)
    if result.error is not None:
        response = error_response(result.error)
    else:
        response = single(ctx, state.present_order(result.order), 201)
    response.orders_written = response.orders_created = 1
    return response


async def get_order(ctx: Context) -> RestResponse:
    dp = parse_dp(ctx)
    ctx.require(VIEW)
    state = ctx.store.state
    order = state.get_order(ctx.int_arg("id"))
    return single(ctx, shown_with_dp(state, state.present_order(order), dp))


async def update_order(ctx: Context) -> RestResponse:
    body = ctx.body()
    validate_order_body(body, list(ctx.store.state.knobs.registered_extra_statuses()))
    ctx.require(EDIT)
    state = ctx.store.state
    # The wcsync-admin plugin moves the date on every save, posts storage included.
    order = state.update_order(ctx.int_arg("id"), body, missing_status=400, admin=ctx.store.wcsync_plugin)
    response = single(ctx, state.present_order(order))
    response.orders_written = 1
    return response


async def delete_order(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    state = ctx.store.state
    order_id = ctx.int_arg("id")
    order = state.delete_order(order_id) if force else state.trash_order(order_id)
    response = single(ctx, state.present_order(order))
    response.orders_written = 1
    return response


async def batch_orders(ctx: Context) -> RestResponse:
    body = ctx.body()
    problems = ParamProblems()
    for name in ("create", "update", "delete"):
        if name in body and not isinstance(body[name], list):
            problems.add(name, "rest_invalid_type", f"{name} is not of type array.")
    problems.raise_if_any()
    ctx.require(BATCH)
    sections = {name: body[name] for name in ("create", "update", "delete") if name in body}
    if sum(len(items) for items in sections.values()) > BATCH_LIMIT:
        raise WPError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )
    state = ctx.store.state
    out: dict[str, list[Any]] = {}
    written = created = 0

    def failure(item_id: Any, error: WPError) -> dict[str, Any]:
        body = error.body()
        return {"id": item_id, "error": body}

    if "create" in sections:
        out["create"] = []
        for item in sections["create"]:
            written += 1
            # Sub-requests skip the REST schema: an unknown status silently becomes pending.
            payload = {"status": "pending", **item} if isinstance(item, dict) else {}
            try:
                result = state.create_order(payload, sanitized=False)
            except CriticalError:
                raise
            except WPError as error:
                out["create"].append(failure(0, error))
                continue
            created += 1
            if result.error is not None:
                out["create"].append(failure(0, result.error))
            else:
                out["create"].append(state.present_order(result.order))
    if "update" in sections:
        out["update"] = []
        for item in sections["update"]:
            written += 1
            item_id = item.get("id", 0) if isinstance(item, dict) else 0
            try:
                order_id = int(item_id)
                updated = state.update_order(
                    order_id, dict(item), missing_status=400, sanitized=False, admin=ctx.store.wcsync_plugin
                )
                out["update"].append(state.present_order(updated))
            except CriticalError:
                # A PHP fatal error ends the whole batch request.
                raise
            except (WPError, TypeError, ValueError) as error:
                wp_error = (
                    error
                    if isinstance(error, WPError)
                    else WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
                )
                out["update"].append(failure(item_id, wp_error))
    if "delete" in sections:
        out["delete"] = []
        for item_id in sections["delete"]:
            written += 1
            try:
                # Batch deletes always run with force=true: permanent, no trash (23).
                out["delete"].append(state.present_order(state.delete_order(int(item_id))))
            except (WPError, TypeError, ValueError) as error:
                wp_error = (
                    error
                    if isinstance(error, WPError)
                    else WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
                )
                out["delete"].append(failure(item_id, wp_error))
    return json_response(200, out, orders_written=written, orders_created=created)


# ----------------------------------------------------------------------- notes


def _order_for_sub_resource(ctx: Context) -> int:
    order_id = ctx.int_arg("order_id")
    if order_id not in ctx.store.state.orders:
        raise WPError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    return order_id


async def list_notes(ctx: Context) -> RestResponse:
    note_type = str(ctx.query.get("type", "any"))
    if note_type not in ("any", "customer", "internal"):
        raise invalid_params(
            {"type": ("rest_not_in_enum", enum_message("type", ("any", "customer", "internal")))}
        )
    ctx.require(LIST)
    order_id = _order_for_sub_resource(ctx)
    notes = ctx.store.state.notes_of(order_id)
    if note_type != "any":
        notes = [n for n in notes if n["customer_note"] == (note_type == "customer")]
    fields = parse_fields(ctx.query)
    if fields:
        notes = [filter_fields(n, fields, keep_id=True) for n in notes]
    # WooCommerce sends no X-WP-Total for notes (31a).
    return json_response(200, notes)


async def create_note(ctx: Context) -> RestResponse:
    body = ctx.body()
    if not body.get("note"):
        raise missing_params(["note"])
    ctx.require(CREATE)
    order_id = _order_for_sub_resource(ctx)
    note = ctx.store.state.add_note(
        order_id,
        str(body["note"]),
        customer_note=bool(body.get("customer_note")),
        added_by_user=bool(body.get("added_by_user")),
    )
    return single(ctx, note, 201)


def _find_note(ctx: Context) -> tuple[int, dict[str, Any]]:
    order_id = _order_for_sub_resource(ctx)
    note_id = ctx.int_arg("id")
    for note in ctx.store.state.extras[order_id].notes:
        if note["id"] == note_id:
            return order_id, note
    raise WPError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)


async def get_note(ctx: Context) -> RestResponse:
    ctx.require(VIEW)
    return single(ctx, _find_note(ctx)[1])


async def delete_note(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    if not force:
        raise WPError("woocommerce_rest_trash_not_supported", "The resource does not support trashing.", 501)
    order_id, note = _find_note(ctx)
    ctx.store.state.extras[order_id].notes.remove(note)
    return single(ctx, note)


# --------------------------------------------------------------------- refunds


async def list_refunds(ctx: Context) -> RestResponse:
    problems = ParamProblems()
    paging = parse_paging(ctx.query, problems)
    dp = as_integer(ctx.query, "dp", problems)
    problems.raise_if_any()
    ctx.require(LIST)
    state = ctx.store.state
    order_id = ctx.int_arg("order_id")
    extras = state.extras.get(order_id)
    refund_ids = sorted(extras.refund_ids, reverse=True) if extras else []
    rows = [state.refund_view(state.refunds[r], abs(dp) if dp is not None else None) for r in refund_ids]
    page = paginate(rows, paging, empty_page_zeroes_totals=False)
    fields = parse_fields(ctx.query)
    items = [filter_fields(r, fields, keep_id=True) for r in page.items] if fields else page.items
    link = link_header(
        collection_url=f"{ctx.store.base_url}/wp-json/wc/v3/orders/{order_id}/refunds",
        sent=ctx.query,
        paging=paging,
        total_pages=page.total_pages,
        appended={},
        defaults_if_rendered={"dp": 2, "context": "view"},
        rendered=bool(items),
    )
    return json_response(
        200,
        items,
        headers={"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)},
        pagination_link=link,
    )


async def create_refund(ctx: Context) -> RestResponse:
    body = ctx.body()
    ctx.require(CREATE)
    state = ctx.store.state
    refund = state.create_refund(ctx.int_arg("order_id"), body)
    response = single(ctx, state.refund_view(refund), 201)
    response.orders_written = 1
    return response


async def get_refund(ctx: Context) -> RestResponse:
    dp = parse_dp(ctx)
    ctx.require(VIEW)
    state = ctx.store.state
    refund = state.refunds.get(ctx.int_arg("id"))
    if refund is None or refund.order_id != ctx.int_arg("order_id"):
        raise WPError("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)
    return single(ctx, state.refund_view(refund, dp))


# -------------------------------------------------------------------- products


async def list_products(ctx: Context) -> RestResponse:
    """Newest first. Variations are listed only when ``sku`` asks for them (real-*/v03a, v03b):
    a plain listing shows the variable parent and never its variations (v04b)."""
    problems = ParamProblems()
    paging = parse_paging(ctx.query, problems)
    problems.raise_if_any()
    ctx.require(LIST)
    state = ctx.store.state
    products = sorted(
        (p for p in state.products.values() if p["status"] != "trash"), key=lambda p: p["id"], reverse=True
    )
    if "sku" in ctx.query:
        skus = set(as_list(ctx.query["sku"]))
        products = [p for p in products if p["sku"] in skus]
    else:
        products = [p for p in products if p["type"] != "variation"]
    if ctx.query.get("search"):
        term = str(ctx.query["search"]).lower()
        products = [p for p in products if term in p["name"].lower()]
    page = paginate(products, paging, empty_page_zeroes_totals=False)
    fields = parse_fields(ctx.query)
    shown = [state.present_product(p) for p in page.items]
    items = [filter_fields(p, fields, keep_id=True) for p in shown] if fields else shown
    link = link_header(
        collection_url=f"{ctx.store.base_url}/wp-json/wc/v3/products",
        sent=ctx.query,
        paging=paging,
        total_pages=page.total_pages,
        appended={},
        defaults_if_rendered={},
        rendered=bool(items),
    )
    return json_response(
        200,
        items,
        headers={"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)},
        pagination_link=link,
    )


async def get_product(ctx: Context) -> RestResponse:
    ctx.require(VIEW)
    state = ctx.store.state
    product = state.products.get(ctx.int_arg("id"))
    if product is None:
        raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
    return single(ctx, state.present_product(product))


async def create_product(ctx: Context) -> RestResponse:
    body = ctx.body()
    ctx.require(CREATE)
    state = ctx.store.state
    return single(ctx, state.present_product(state.create_product(body)), 201)


async def delete_product(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    state = ctx.store.state
    return single(ctx, state.present_product(state.delete_product(ctx.int_arg("id"), force=force)))


async def create_variation(ctx: Context) -> RestResponse:
    body = ctx.body()
    ctx.require(CREATE)
    store = ctx.store
    variation = store.state.create_variation(ctx.int_arg("product_id"), body)
    return single(
        ctx, variation_route_view(variation, base_url=store.base_url, version=store.state.version), 201
    )


async def delete_variation(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    variation = next((v for v in _variations_of(ctx) if v["id"] == ctx.int_arg("id")), None)
    if variation is None:
        raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
    store = ctx.store
    shown = variation_route_view(variation, base_url=store.base_url, version=store.state.version)
    store.state.delete_product(variation["id"], force=force)
    return single(ctx, shown)


async def get_setting(ctx: Context) -> RestResponse:
    ctx.require(VIEW)
    return single(ctx, ctx.store.state.setting(ctx.match["group"], ctx.match["id"]))


async def update_setting(ctx: Context) -> RestResponse:
    body = ctx.body()
    ctx.require(EDIT)
    setting = ctx.store.state.set_setting(ctx.match["group"], ctx.match["id"], body.get("value"))
    return single(ctx, setting)


async def list_taxes(ctx: Context) -> RestResponse:
    ctx.require(LIST)
    return json_response(200, list(ctx.store.state.tax_rates))


async def create_tax(ctx: Context) -> RestResponse:
    body = ctx.body()
    ctx.require(CREATE)
    return single(ctx, ctx.store.state.add_tax_rate(body), 201)


async def delete_tax(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    if not force:
        raise WPError("woocommerce_rest_trash_not_supported", "Taxes do not support trashing.", 501)
    return single(ctx, ctx.store.state.delete_tax_rate(ctx.int_arg("id")))


def _variations_of(ctx: Context) -> list[dict[str, Any]]:
    state = ctx.store.state
    parent = state.products.get(ctx.int_arg("product_id"))
    if parent is None or parent["type"] != "variable":
        return []
    return [state.products[i] for i in sorted(parent["variations"], reverse=True) if i in state.products]


async def list_variations(ctx: Context) -> RestResponse:
    """``GET /products/{id}/variations``: newest first, ``sku`` filters (real-*/v05a, v05c)."""
    problems = ParamProblems()
    paging = parse_paging(ctx.query, problems)
    problems.raise_if_any()
    ctx.require(LIST)
    store = ctx.store
    variations = _variations_of(ctx)
    if "sku" in ctx.query:
        skus = set(as_list(ctx.query["sku"]))
        variations = [v for v in variations if v["sku"] in skus]
    page = paginate(variations, paging, empty_page_zeroes_totals=False)
    shown = [
        variation_route_view(v, base_url=store.base_url, version=store.state.version) for v in page.items
    ]
    fields = parse_fields(ctx.query)
    items = [filter_fields(v, fields, keep_id=True) for v in shown] if fields else shown
    link = link_header(
        collection_url=f"{store.base_url}/wp-json/wc/v3/products/{ctx.int_arg('product_id')}/variations",
        sent=ctx.query,
        paging=paging,
        total_pages=page.total_pages,
        appended={},
        defaults_if_rendered={},
        rendered=bool(items),
    )
    return json_response(
        200,
        items,
        headers={"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)},
        pagination_link=link,
    )


async def get_variation(ctx: Context) -> RestResponse:
    ctx.require(VIEW)
    variation = next((v for v in _variations_of(ctx) if v["id"] == ctx.int_arg("id")), None)
    if variation is None:
        raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
    store = ctx.store
    return single(ctx, variation_route_view(variation, base_url=store.base_url, version=store.state.version))


# -------------------------------------------------------------------- webhooks


def _validate_webhook_status(body: dict[str, Any]) -> None:
    if "status" in body and body["status"] not in ("active", "paused", "disabled"):
        raise invalid_params(
            {
                "status": (
                    "rest_not_in_enum",
                    enum_message("status", ("active", "paused", "disabled")),
                )
            }
        )


async def list_webhooks(ctx: Context) -> RestResponse:
    problems = ParamProblems()
    paging = parse_paging(ctx.query, problems)
    problems.raise_if_any()
    ctx.require(LIST)
    hooks = sorted(ctx.store.webhooks.webhooks.values(), key=lambda w: w.id, reverse=True)
    status = str(ctx.query.get("status", "all"))
    if status != "all":
        hooks = [w for w in hooks if w.status == status]
    rows = [w.view(ctx.store.base_url) for w in hooks]
    page = paginate(rows, paging, empty_page_zeroes_totals=False)
    link = link_header(
        collection_url=f"{ctx.store.base_url}/wp-json/wc/v3/webhooks",
        sent=ctx.query,
        paging=paging,
        total_pages=page.total_pages,
        appended={},
        defaults_if_rendered={},
        rendered=bool(page.items),
    )
    return json_response(
        200,
        page.items,
        headers={"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)},
        pagination_link=link,
    )


async def create_webhook(ctx: Context) -> RestResponse:
    body = ctx.body()
    missing = [name for name in ("topic", "delivery_url") if name not in body]
    if missing:
        raise missing_params(missing)
    _validate_webhook_status(body)
    ctx.require(CREATE)
    webhook = ctx.store.webhooks.create(body)
    # WooCommerce pings synchronously and ignores the outcome (36a: created though unreachable).
    await ctx.store.webhooks.ping(webhook)
    return single(ctx, webhook.view(ctx.store.base_url), 201)


async def get_webhook(ctx: Context) -> RestResponse:
    ctx.require(VIEW)
    return single(ctx, ctx.store.webhooks.get(ctx.int_arg("id")).view(ctx.store.base_url))


async def update_webhook(ctx: Context) -> RestResponse:
    body = ctx.body()
    _validate_webhook_status(body)
    ctx.require(EDIT)
    webhook = ctx.store.webhooks.update(ctx.int_arg("id"), body)
    return single(ctx, webhook.view(ctx.store.base_url))


async def delete_webhook(ctx: Context) -> RestResponse:
    force = parse_force(ctx)
    ctx.require(DELETE)
    webhook = ctx.store.webhooks.delete(ctx.int_arg("id"), force=force)
    return single(ctx, webhook.view(ctx.store.base_url))


# ---------------------------------------------------------------------- misc


async def order_totals(ctx: Context) -> RestResponse:
    """``GET /reports/orders/totals``: each registered status (WooCommerce's, then a plugin's)
    with its label and how many orders hold it, as 7.8.2 and 10.6.2 answer it."""
    ctx.require(LIST)
    state = ctx.store.state
    labels = {s: STATUS_LABELS[s] for s in ORDER_STATUSES} | state.knobs.registered_extra_statuses()
    counts = Counter(str(o.get("status")) for o in state.orders.values())
    rows = [{"slug": s, "name": n, "total": counts.get(s, 0)} for s, n in labels.items()]
    return RestResponse(status=200, body=rows)


async def system_status(ctx: Context) -> RestResponse:
    ctx.require(LIST)
    hpos = ctx.store.state.storage == "hpos"
    woocommerce, wordpress = ctx.store.state.release
    body: dict[str, Any] = {
        "environment": {
            "version": woocommerce,
            "wp_version": wordpress,
            "php_version": "8.2.36",
            "default_timezone": "UTC",
        },
        "database": {"wc_database_version": woocommerce},
        "active_plugins": [],
        "theme": {},
        "settings": {
            "currency": ctx.store.state.currency,
            "currency_symbol": "&#36;",
            "number_of_decimals": ctx.store.state.price_decimals,
            # The HPOS indicator (35a).
            "order_datastore": (
                "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore"
                if hpos
                else "WC_Order_Data_Store_CPT"
            ),
            "HPOS_enabled": hpos,
            "HPOS_sync_enabled": False,
        },
        "security": {"secure_connection": ctx.store.https, "hide_errors": True},
        "pages": [],
        "post_type_counts": [],
    }
    return single(ctx, body)


async def index(ctx: Context) -> RestResponse:
    store = ctx.store
    body = {
        "name": store.site_title,
        "description": "",
        "url": store.base_url,
        "home": store.base_url,
        "gmt_offset": 0,
        "timezone_string": "UTC",
        "namespaces": [
            "oembed/1.0",
            "wc-admin",
            "wc-analytics",
            "wc/store",
            "wc/store/v1",
            "wc/v1",
            "wc/v2",
            "wc/v3",
            "wc-telemetry",
            "wccom-site/v1",
            "wccom-site/v2",
            "wp/v2",
            "wp-site-health/v1",
            "wp-block-editor/v1",
        ],
        "authentication": [],
        "routes": {},
        **(
            {"wcsync_admin": {"origin_filter": True, "suppress_emails": False, "marks_changes": True}}
            if store.wcsync_plugin
            else {}
        ),
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }
    return single(ctx, body)


def _route(kind: str, regex: str, **handlers: Handler) -> Route:
    return Route(kind, re.compile(f"^{regex}$"), {m.upper(): h for m, h in handlers.items()})


ROUTES: tuple[Route, ...] = (
    _route("/", "/", get=index),
    _route("/orders", "/wc/v3/orders", get=list_orders, post=create_order),
    _route("/orders/batch", "/wc/v3/orders/batch", post=batch_orders, put=batch_orders, patch=batch_orders),
    _route(
        "/orders/{id}",
        r"/wc/v3/orders/(?P<id>\d+)",
        get=get_order,
        post=update_order,
        put=update_order,
        patch=update_order,
        delete=delete_order,
    ),
    _route(
        "/orders/{id}/notes",
        r"/wc/v3/orders/(?P<order_id>\d+)/notes",
        get=list_notes,
        post=create_note,
    ),
    _route(
        "/orders/{id}/notes/{id}",
        r"/wc/v3/orders/(?P<order_id>\d+)/notes/(?P<id>\d+)",
        get=get_note,
        delete=delete_note,
    ),
    _route(
        "/orders/{id}/refunds",
        r"/wc/v3/orders/(?P<order_id>\d+)/refunds",
        get=list_refunds,
        post=create_refund,
    ),
    _route(
        "/orders/{id}/refunds/{id}",
        r"/wc/v3/orders/(?P<order_id>\d+)/refunds/(?P<id>\d+)",
        get=get_refund,
    ),
    _route("/products", "/wc/v3/products", get=list_products, post=create_product),
    _route("/products/{id}", r"/wc/v3/products/(?P<id>\d+)", get=get_product, delete=delete_product),
    _route(
        "/products/{id}/variations",
        r"/wc/v3/products/(?P<product_id>\d+)/variations",
        get=list_variations,
        post=create_variation,
    ),
    _route(
        "/products/{id}/variations/{id}",
        r"/wc/v3/products/(?P<product_id>\d+)/variations/(?P<id>\d+)",
        get=get_variation,
        delete=delete_variation,
    ),
    _route(
        "/settings/{group}/{id}",
        r"/wc/v3/settings/(?P<group>[\w-]+)/(?P<id>[\w-]+)",
        get=get_setting,
        put=update_setting,
        post=update_setting,
        patch=update_setting,
    ),
    _route("/taxes", "/wc/v3/taxes", get=list_taxes, post=create_tax),
    _route("/taxes/{id}", r"/wc/v3/taxes/(?P<id>\d+)", delete=delete_tax),
    _route("/webhooks", "/wc/v3/webhooks", get=list_webhooks, post=create_webhook),
    _route(
        "/webhooks/{id}",
        r"/wc/v3/webhooks/(?P<id>\d+)",
        get=get_webhook,
        post=update_webhook,
        put=update_webhook,
        patch=update_webhook,
        delete=delete_webhook,
    ),
    _route("/system_status", "/wc/v3/system_status", get=system_status),
    _route("/reports/orders/totals", "/wc/v3/reports/orders/totals", get=order_totals),
)


# The theme's 404 page, for a URL that is no REST route (and every /wp-json/ URL on a site with
# plain permalinks).
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>Page not found</title></head>"
    "<body><h1>Oops! That page can&rsquo;t be found.</h1></body></html>"
)


def resolve_route(path: str, query: dict[str, Any]) -> tuple[str | None, bool]:
    """The REST route of a URL and whether WooCommerce would authenticate it."""
    if path == "/wp-json" or path.startswith("/wp-json/"):
        route = path[len("/wp-json") :] or "/"
        authenticate_it = path.startswith("/wp-json/wc/")
    elif path in ("/", "/index.php") and "rest_route" in query:
        # The non-pretty form works for routing but WooCommerce never authenticates it (29b).
        route = str(query["rest_route"]) or "/"
        authenticate_it = False
    else:
        return None, False
    if len(route) > 1:
        route = route.rstrip("/")
    return route, authenticate_it


def route_kind(path: str, query_string: str) -> str:
    """A stats label such as ``/orders/{id}``."""
    route, _ = resolve_route(path, php_parse_str(query_string))
    if route is None:
        return "other"
    for candidate in ROUTES:
        if candidate.pattern.match(route):
            return candidate.kind
    return "unknown"


def effective_method(request: RestRequest, query: dict[str, Any]) -> str:
    override = query.get("_method") or request.headers.get("x-http-method-override")
    return str(override).upper() if override else request.method.upper()


def request_line_length(request: RestRequest) -> int:
    """The bytes of `GET /path?query HTTP/1.1\\r\\n` as sent (the query string still encoded)."""
    target = request.path + ("?" + request.query_string if request.query_string else "")
    return len(f"{request.method} {target} HTTP/1.1\r\n".encode())


async def dispatch(store: FakeStore, request: RestRequest) -> RestResponse:
    """Answer one request the way WooCommerce 7.8 on WordPress 6.1 would, behind nginx."""
    if request_line_length(request) > REQUEST_LINE_LIMIT:
        return RestResponse(status=414, body=URI_TOO_LONG_PAGE, html=True)
    query = php_parse_str(request.query_string)
    route, authenticate_it = resolve_route(request.path, query)
    if route is None:
        return RestResponse(status=404, body=NOT_FOUND_PAGE, html=True)
    identity = Identity()
    try:
        if authenticate_it:
            form = (
                php_parse_str(request.body.decode("utf-8", "replace"))
                if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
                else {}
            )
            identity = authenticate(
                key=store.api_key,
                https=store.https,
                home_url=store.base_url,
                method=request.method,
                path=request.path,
                query=query,
                form=form,
                headers=request.headers,
                now=int(store.clock().timestamp()),
            )
            check_key_permissions(identity, request.method)
        method = effective_method(request, query)
        for candidate in ROUTES:
            found = candidate.pattern.match(route)
            # WordPress answers HEAD with the GET handler (the server drops the body).
            handler = candidate.handlers.get(method) or (
                candidate.handlers.get("GET") if method == "HEAD" else None
            )
            if found and handler is not None:
                response = await handler(Context(store, request, method, query, identity, found.groupdict()))
                if store.state.version != "7.8" and not response.html:
                    response.body = with_target_hints(response.body)
                return response
        raise WPError(*NO_ROUTE, 404)
    except WPError as error:
        return error_response(error)
