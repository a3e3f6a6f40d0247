"""``GET /wc/v3/orders`` (and the other collections): parameters, filtering, pages, Link."""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.testing.errors import invalid_params
from app.testing.phpcompat import money, to_decimal, wp_add_query_arg, wp_add_query_arg_single
from app.testing.state import ORDER_STATUSES, StoreState

LIST_STATUS_ENUM: tuple[str, ...] = ("any", "trash", *ORDER_STATUSES)
ORDERBY_ENUM = ("date", "id", "include", "title", "slug", "modified")

_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def wp_list(items: Sequence[str]) -> str:
    """``wp_sprintf('%l')``: "a, b, and c"; "a and b"."""
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def enum_message(param: str, enum: Sequence[str]) -> str:
    return f"{param} is not one of {wp_list(list(enum))}."


def parse_wp_date(value: str) -> str | None:
    """``rest_parse_date``: a full date-time, optionally with a zone; returned as naive UTC."""
    match = _DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    sign = match.group(8)
    if sign:
        offset = int(match.group(9)) * 3600 + int(match.group(10) or 0) * 60
        moment = datetime.fromtimestamp(moment.timestamp() - (offset if sign == "+" else -offset), tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class ParamProblems:
    """Collects invalid parameters in registration order, like WordPress."""

    def __init__(self) -> None:
        self.problems: dict[str, tuple[str, str]] = {}

    def add(self, name: str, code: str, message: str) -> None:
        self.problems.setdefault(name, (code, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise invalid_params(self.problems)


def as_integer(params: dict[str, Any], name: str, problems: ParamProblems) -> int | None:
    if name not in params:
        return None
    value = params[name]
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    problems.add(name, "rest_invalid_type", f"{name} is not of type integer.")
    return None


def as_boolean(params: dict[str, Any], name: str, problems: ParamProblems) -> bool | None:
    if name not in params:
        return None
    value = params[name]
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    problems.add(name, "rest_invalid_type", f"{name} is not of type boolean.")
    return None


def as_list(value: Any) -> list[str]:
    """``wp_parse_list``: a list param may come as ``a,b`` or ``a[]=..``."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip() != ""]
    if isinstance(value, dict):
        return [str(v).strip() for v in value.values() if str(v).strip() != ""]
    return [part.strip() for part in re.split(r"[\s,]+", str(value)) if part.strip()]


def as_id_list(params: dict[str, Any], name: str, problems: ParamProblems) -> list[int] | None:
    if name not in params:
        return None
    ids: list[int] = []
    for index, item in enumerate(as_list(params[name])):
        if not _INTEGER.match(item):
            problems.add(name, "rest_invalid_type", f"{name}[{index}] is not of type integer.")
            return None
        ids.append(int(item))
    return ids


@dataclass
class Paging:
    page: int = 1
    per_page: int = 10
    offset: int | None = None
    # Registered params the request sent, after sanitising; written back into the Link URLs.
    sanitized: dict[str, Any] = field(default_factory=dict)


def parse_paging(params: dict[str, Any], problems: ParamProblems) -> Paging:
    paging = Paging()
    page = as_integer(params, "page", problems)
    if page is not None:
        if page < 1:
            problems.add("page", "rest_out_of_bounds", "page must be greater than or equal to 1")
        else:
            paging.page = page
            paging.sanitized["page"] = page
    per_page = as_integer(params, "per_page", problems)
    if per_page is not None:
        if not 1 <= per_page <= 100:
            message = "per_page must be between 1 (inclusive) and 100 (inclusive)"
            problems.add("per_page", "rest_out_of_bounds", message)
        else:
            paging.per_page = per_page
            paging.sanitized["per_page"] = per_page
    offset = as_integer(params, "offset", problems)
    if offset is not None:
        paging.offset = offset
        paging.sanitized["offset"] = offset
    return paging


@dataclass
class OrderQuery:
    paging: Paging
    order: str = "desc"
    orderby: str = "date"
    statuses: list[str] = field(default_factory=lambda: ["any"])
    include: list[int] | None = None
    exclude: list[int] | None = None
    parent: list[int] | None = None
    after: str | None = None
    before: str | None = None
    modified_after: str | None = None
    modified_before: str | None = None
    search: str | None = None
    customer: int | None = None
    product: int | None = None
    dp: int = 2
    context: str = "view"
    # 10.6 only (9.9+); the caller drops it for a 7.8 store, which ignores it (real-*/s09).
    created_via: list[str] | None = None


def parse_order_query(params: dict[str, Any], extra_statuses: Sequence[str] = ()) -> OrderQuery:
    """Validate ``GET /orders`` params in WooCommerce's registration order."""
    problems = ParamProblems()
    if "context" in params and params["context"] not in ("view", "edit"):
        problems.add("context", "rest_not_in_enum", enum_message("context", ("view", "edit")))
    paging = parse_paging(params, problems)
    query = OrderQuery(paging=paging)
    if "context" in params and not problems.problems.get("context"):
        query.context = str(params["context"])
    if "search" in params:
        query.search = str(params["search"])
    for name in ("after", "before", "modified_after", "modified_before"):
        if name in params:
            parsed = parse_wp_date(str(params[name]))
            if parsed is None:
                problems.add(name, "rest_invalid_date", "Invalid date.")
            else:
                setattr(query, name, parsed)
    gmt = as_boolean(params, "dates_are_gmt", problems)
    if gmt is not None:
        paging.sanitized["dates_are_gmt"] = gmt
    for name in ("exclude", "include"):
        ids = as_id_list(params, name, problems)
        if ids is not None:
            setattr(query, name, ids)
            paging.sanitized[name] = ids
    if "order" in params:
        if params["order"] not in ("asc", "desc"):
            problems.add("order", "rest_not_in_enum", enum_message("order", ("asc", "desc")))
        else:
            query.order = str(params["order"])
    if "orderby" in params:
        if params["orderby"] not in ORDERBY_ENUM:
            problems.add("orderby", "rest_not_in_enum", enum_message("orderby", ORDERBY_ENUM))
        else:
            query.orderby = str(params["orderby"])
    parent = as_id_list(params, "parent", problems)
    if parent is not None:
        query.parent = parent
    if "status" in params:
        statuses = as_list(params["status"])
        enum = (*LIST_STATUS_ENUM, *extra_statuses)
        for index, status in enumerate(statuses):
            if status not in enum:
                problems.add(
                    "status",
                    "rest_not_in_enum",
                    enum_message(f"status[{index}]", enum),
                )
                break
        else:
            query.statuses = statuses or ["any"]
    if "created_via" in params:
        query.created_via = as_list(params["created_via"])
    query.customer = as_integer(params, "customer", problems)
    query.product = as_integer(params, "product", problems)
    dp = as_integer(params, "dp", problems)
    if dp is not None:
        query.dp = abs(dp)
        paging.sanitized["dp"] = abs(dp)
    problems.raise_if_any()
    return query


@dataclass
class SortIndex:
    """Order ids sorted by ``(key_field, id)``, kept up to date from the state's change log.

    A write costs the next listing one bisect and one list insert per changed order instead of
    a full sort, so a sync paging through 100,000 orders while new ones arrive stays cheap.
    """

    key_field: str
    epoch: int
    applied: int
    keys: list[tuple[Any, int]]
    current: dict[int, tuple[Any, int]]

    @classmethod
    def build(cls, state: StoreState, key_field: str) -> SortIndex:
        current = {order_id: (order[key_field], order_id) for order_id, order in state.orders.items()}
        return cls(key_field, state.log_epoch, len(state.change_log), sorted(current.values()), current)

    def catch_up(self, state: StoreState) -> None:
        for order_id in dict.fromkeys(state.change_log[self.applied :]):
            old = self.current.pop(order_id, None)
            if old is not None:
                del self.keys[bisect_left(self.keys, old)]
            order = state.orders.get(order_id)
            if order is not None:
                key = (order[self.key_field], order_id)
                insort(self.keys, key)
                self.current[order_id] = key
        self.applied = len(state.change_log)


def sort_index(state: StoreState, key_field: str) -> SortIndex:
    indexes: dict[str, SortIndex] = state.__dict__.setdefault("_sort_indexes", {})
    index = indexes.get(key_field)
    pending = len(state.change_log) - index.applied if index is not None else 0
    if index is None or index.epoch != state.log_epoch or pending > max(1000, len(state.orders) // 4):
        index = indexes[key_field] = SortIndex.build(state, key_field)
    elif pending:
        index.catch_up(state)
    return index


def _matches_search(state: StoreState, order: dict[str, Any], term: str) -> bool:
    if term.isdigit() and order["id"] == int(term):
        return True
    needle = term.lower()
    billing, shipping = order["billing"], order["shipping"]
    haystack = [
        billing["first_name"],
        billing["last_name"],
        billing["address_1"],
        billing["city"],
        billing["postcode"],
        billing["phone"],
        shipping["first_name"],
        shipping["last_name"],
        shipping["address_1"],
        shipping["city"],
        *(item["name"] for item in order["line_items"]),
    ]
    if any(needle in str(value).lower() for value in haystack):
        return True
    email = billing["email"].lower()
    if state.storage == "hpos":
        # HPOS: billing email is a prefix match, and the transaction id is searched too.
        return email.startswith(needle) or needle in order["transaction_id"].lower()
    return needle in email


def select_orders(state: StoreState, query: OrderQuery) -> list[dict[str, Any]]:
    """Every order matching the query, in the requested order (not yet paged)."""
    orderby = query.orderby
    key_field = {"modified": "date_modified_gmt", "id": "id"}.get(orderby, "date_created_gmt")
    keys: Sequence[tuple[Any, int]] = sort_index(state, key_field).keys
    # Date bounds on the sort column become a bisect: O(log n) before the linear filters.
    low_bound, high_bound = None, None
    if key_field == "date_modified_gmt":
        low_bound, high_bound = query.modified_after, query.modified_before
    elif key_field == "date_created_gmt":
        low_bound, high_bound = query.after, query.before
    if low_bound is not None or high_bound is not None:
        # Exclusive bounds: skip every id at low_bound, stop before any id at high_bound.
        start = bisect_right(keys, (low_bound, math.inf)) if low_bound else 0
        stop = bisect_left(keys, (high_bound, -1)) if high_bound else len(keys)
        keys = keys[start:stop]
    orders = state.orders

    include = frozenset(query.include) if query.include else None
    exclude = frozenset(query.exclude) if query.exclude else None
    parents = frozenset(query.parent) if query.parent else None
    checks: list[Callable[[dict[str, Any]], bool]] = []
    # Bounds already applied by the bisect need no per-order check.
    if query.after and key_field != "date_created_gmt":
        after = query.after
        checks.append(lambda o: o["date_created_gmt"] > after)
    if query.before and key_field != "date_created_gmt":
        before = query.before
        checks.append(lambda o: o["date_created_gmt"] < before)
    if query.modified_after and key_field != "date_modified_gmt":
        modified_after = query.modified_after
        checks.append(lambda o: o["date_modified_gmt"] > modified_after)
    if query.modified_before and key_field != "date_modified_gmt":
        modified_before = query.modified_before
        checks.append(lambda o: o["date_modified_gmt"] < modified_before)
    if include is not None:
        checks.append(lambda o: o["id"] in include)
    if exclude is not None:
        checks.append(lambda o: o["id"] not in exclude)
    if parents is not None:
        checks.append(lambda o: o["parent_id"] in parents)
    if query.created_via:
        via = frozenset(query.created_via)
        checks.append(lambda o: o["created_via"] in via)
    if query.customer is not None:
        customer = query.customer
        checks.append(lambda o: o["customer_id"] == customer)
    if query.product is not None:
        product = query.product
        checks.append(lambda o: any(i["product_id"] == product for i in o["line_items"]))
    if query.search:
        term = query.search
        checks.append(lambda o: _matches_search(state, o, term))

    # "any" means every status but trash, even next to an explicit "trash".
    if "any" in query.statuses:
        selected = [o for _, i in keys if (o := orders[i])["status"] != "trash"]
    else:
        allowed = frozenset(query.statuses)
        selected = [o for _, i in keys if (o := orders[i])["status"] in allowed]
    if checks:
        selected = [o for o in selected if all(check(o) for check in checks)]
    if orderby == "include" and query.include:
        position = {order_id: i for i, order_id in enumerate(query.include)}
        selected.sort(key=lambda o: position.get(o["id"], len(position)))
        if query.order == "desc":
            selected.reverse()
    elif query.order == "desc":
        selected.reverse()
    return selected


def shuffle_ties(rows: Sequence[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Orders modified in the same second, in an order of the moment: what MySQL gave 7.8's
    ``orderby=modified`` (no id tie-break) from one page request to the next."""
    out: list[dict[str, Any]] = []
    start = 0
    while start < len(rows):
        end = start
        moment = rows[start]["date_modified_gmt"]
        while end < len(rows) and rows[end]["date_modified_gmt"] == moment:
            end += 1
        group = list(rows[start:end])
        rng.shuffle(group)
        out.extend(group)
        start = end
    return out


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    total_pages: int


def paginate(rows: Sequence[dict[str, Any]], paging: Paging, *, empty_page_zeroes_totals: bool) -> Page:
    start = paging.offset if paging.offset is not None else (paging.page - 1) * paging.per_page
    items = list(rows[start : start + paging.per_page])
    total = len(rows)
    pages = math.ceil(total / paging.per_page) if total else 0
    if not items and empty_page_zeroes_totals:
        # HPOS 7.8 counts a page past the end as 0 of 0 (recording 04).
        total, pages = 0, 0
    return Page(items, total, pages)


def link_header(
    *,
    collection_url: str,
    sent: dict[str, Any],
    paging: Paging,
    total_pages: int,
    appended: dict[str, Any],
    defaults_if_rendered: dict[str, Any],
    rendered: bool,
) -> str | None:
    """WooCommerce's ``rel="prev"``/``rel="next"`` links, or ``None`` when there are neither.

    The URLs repeat the request's own parameters in order, with registered ones sanitised in
    place (``dates_are_gmt=1``); ``appended`` (the status list) is re-added at the end, and
    ``defaults_if_rendered`` (``dp``, ``context``) only when at least one item was rendered,
    because WooCommerce sets them while preparing items (recordings 01-04, 09, 33c, 38).
    """
    params: dict[str, Any] = dict(sent)
    for name, value in paging.sanitized.items():
        if name in params:
            params[name] = value
    for name in appended:
        params.pop(name, None)
    params.update(appended)
    if rendered:
        for name, value in defaults_if_rendered.items():
            params.setdefault(name, value)
    base = wp_add_query_arg(collection_url, params)
    page = paging.page
    links: list[str] = []
    if page > 1:
        previous = min(page - 1, total_pages)
        links.append(f'<{wp_add_query_arg_single(base, "page", previous)}>; rel="prev"')
    if total_pages > page:
        links.append(f'<{wp_add_query_arg_single(base, "page", page + 1)}>; rel="next"')
    return ", ".join(links) if links else None


def filter_fields(obj: dict[str, Any], fields: list[str], *, keep_id: bool) -> dict[str, Any]:
    """WordPress ``_fields``: top-level names and ``parent.child`` paths, object order kept."""
    nested: dict[str, list[str]] = {}
    top: set[str] = set()
    for name in fields:
        head, _, rest = name.partition(".")
        top.add(head)
        if rest:
            nested.setdefault(head, []).append(rest)
    if keep_id:
        top.add("id")
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if key not in top:
            continue
        if key in nested and isinstance(value, dict) and key not in fields:
            result[key] = filter_fields(value, nested[key], keep_id=False)
        else:
            result[key] = value
    return result


def parse_fields(params: dict[str, Any]) -> list[str] | None:
    if "_fields" not in params:
        return None
    return as_list(params["_fields"])


_ORDER_MONEY = (
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total",
    "total_tax",
)
_ITEM_MONEY = ("subtotal", "subtotal_tax", "total", "total_tax", "tax_total", "shipping_tax_total")
ExactAmount = Callable[[str, int, str], Decimal | None]
"""An amount as the store keeps it, by ("order" or "item", its id, the key), if it keeps one."""


def with_dp(
    order: dict[str, Any],
    dp: int,
    exact: ExactAmount | None = None,
    *,
    stored: int = 2,
    taxes_follow_dp: bool = False,
) -> dict[str, Any]:
    """Re-render money with ``dp`` decimals from the amounts as kept (``exact``), as
    WooCommerce formats what it stores; the stored order shows the store's price decimals
    (``stored``). An item's ``taxes`` follow ``dp`` on 10.6 only (7.8 prints the stored float)."""
    if dp == stored:
        return order

    def fmt(value: Any, kind: str, owner: Any, key: str) -> Any:
        if not isinstance(value, str):
            return value
        kept = exact(kind, owner, key) if exact is not None and isinstance(owner, int) else None
        return money(kept if kept is not None else to_decimal(value, Decimal(0)), dp)

    def item(line: dict[str, Any]) -> dict[str, Any]:
        shown = {k: (fmt(v, "item", line.get("id"), k) if k in _ITEM_MONEY else v) for k, v in line.items()}
        if taxes_follow_dp and isinstance(line.get("taxes"), list):
            shown["taxes"] = [
                {
                    **tax,
                    "total": fmt(tax.get("total"), "item", line.get("id"), "tax_total"),
                    "subtotal": (
                        fmt(tax["subtotal"], "item", line.get("id"), "tax_subtotal")
                        if tax.get("subtotal")
                        else ""
                    ),
                }
                for tax in line["taxes"]
            ]
        return shown

    out = dict(order)
    for key in _ORDER_MONEY:
        if key in out:
            out[key] = fmt(out[key], "order", order.get("id"), key)
    for section in ("line_items", "shipping_lines", "fee_lines", "tax_lines", "coupon_lines"):
        if section in out:
            out[section] = [item(line) for line in out[section]]
    if "refunds" in out:
        out["refunds"] = [{**r, "total": fmt(r["total"], "refund", None, "total")} for r in out["refunds"]]
    return out
