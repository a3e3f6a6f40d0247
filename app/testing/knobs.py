"""Runtime knobs, one-shot faults and counters of a fake store."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

FaultKind = Literal[
    "5xx",
    "429",
    "timeout",
    "timeout_after_create",
    "html",
    "drop_after_create",
    "drop_after_write",
    "refund_refused",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
WcVersion = Literal["7.8", "10.6"]
WC_VERSIONS: tuple[str, ...] = get_args(WcVersion)
# These apply to the next order-creating requests only, after the orders were written.
AFTER_CREATE_KINDS = frozenset({"timeout_after_create", "drop_after_create"})
# The write is done, then the connection drops: an update or a refund whose reply is lost.
AFTER_WRITE_KINDS = frozenset({"drop_after_write"})
# Faults that wait for a request of their own kind: `refund_refused` answers the next
# POST /orders/{id}/refunds as WooCommerce refuses a refund larger than what is left (HTTP 500,
# recorded v10), whatever requests come before it.
REFUND_KINDS = frozenset({"refund_refused"})


@dataclass
class Knobs:
    """Behaviour of one fake store; every field may be changed while it serves.

    All toggles default to off. ``hang_seconds`` and ``retry_after_seconds`` are only
    parameters of the faults that use them.

    ``wc_version`` picks the WooCommerce line the store behaves as: ``"7.8"`` (7.8.2, the
    default) or ``"10.6"`` (10.6.2); see docs/woocommerce-behaviour.md for what differs.
    ``tax_rate_percent`` > 0 turns taxes on with one standard rate for every country (shipping
    taxed too); ``prices_include_tax`` is the store's "prices entered with tax" option and
    ``tax_round_at_subtotal`` its "round tax at subtotal level" option.
    ``edit_while_listing`` edits that many orders of each page a client reads from
    ``GET /orders?orderby=modified`` (or any listing bounded by ``modified_after`` or
    ``modified_before``) right after the page is served (the first ones of the page), bumping
    their ``date_modified``, as a shop admin would between two page requests.
    ``extra_statuses`` registers plugins' order statuses ("shipped=Shipped,...").
    ``strip_authorization`` drops the ``Authorization`` header before WordPress sees it, as a web
    server does that runs PHP over FastCGI or CGI without passing it on (no
    ``HTTP_AUTHORIZATION``): Basic auth then reaches WooCommerce as no credentials at all.
    ``plain_permalinks`` is the site's Settings > Permalinks on *Plain*: ``/wp-json/…`` URLs
    answer the theme's 404 page, only ``/?rest_route=…`` reaches the REST API (and WooCommerce
    authenticates no such URL).
    ``shuffle_tied_orders`` (7.8 only) returns orders modified in the same second in an order
    that changes from request to request: 7.8 sorts ``orderby=modified`` without an id
    tie-break and MySQL did exactly that (recorded real-7.8-*/k01c, k01d).
    """

    latency_base_ms: float = 0.0
    latency_per_order_ms: float = 0.0
    # Per order in a listing's answer (reading full orders costs a real store time too).
    latency_per_order_read_ms: float = 0.0
    max_concurrency: int = 0  # 0: unlimited
    fail_5xx_rate: float = 0.0
    fail_429_rate: float = 0.0
    retry_after_seconds: int = 1
    timeout_rate: float = 0.0
    timeout_after_create_rate: float = 0.0
    hang_seconds: float = 30.0
    down: bool = False
    html_200_rate: float = 0.0
    clock_skew_seconds: float = 0.0
    webhook_delay_seconds: float = 0.0
    seed: int | None = None
    wc_version: str = "7.8"
    tax_rate_percent: float = 0.0
    prices_include_tax: bool = False
    tax_round_at_subtotal: bool = False
    edit_while_listing: int = 0
    shuffle_tied_orders: bool = False
    strip_authorization: bool = False
    plain_permalinks: bool = False
    # Order statuses a plugin registers on this store, as "slug=Label,slug=Label" (slugs without
    # "wc-"): listed, writable and kept like WooCommerce's own.
    extra_statuses: str = ""

    def registered_extra_statuses(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in self.extra_statuses.split(","):
            slug, _, label = entry.strip().partition("=")
            if slug.strip():
                found[slug.strip()] = label.strip() or slug.strip()
        return found

    def __post_init__(self) -> None:
        if self.wc_version not in WC_VERSIONS:
            raise ValueError(f"wc_version must be one of {', '.join(WC_VERSIONS)}")

    @classmethod
    def realistic(cls, **overrides: Any) -> Knobs:
        """The model of a small real store (docs/woocommerce-performance.md): 90 ms + 130 ms per
        order, 2 at once."""
        base: dict[str, Any] = {
            "latency_base_ms": 90.0,
            "latency_per_order_ms": 130.0,
            "max_concurrency": 2,
        }
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Set several knobs at once; unknown names raise ``KeyError``, bad types ``TypeError``."""
        known = {f.name: f for f in fields(self)}
        for name in changes:
            if name not in known:
                raise KeyError(name)
        for name, value in changes.items():
            # Check against the field's default type: the current value may have been set to
            # an int where a float is meant.
            reference = known[name].default
            if name == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise TypeError(f"{name} must be an integer or null")
            elif name == "wc_version":
                if value not in WC_VERSIONS:
                    raise TypeError(f"{name} must be one of {', '.join(WC_VERSIONS)}")
            elif isinstance(reference, bool):
                if not isinstance(value, bool):
                    raise TypeError(f"{name} must be a boolean")
            elif isinstance(reference, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"{name} must be an integer")
            elif isinstance(reference, float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise TypeError(f"{name} must be a number")
                value = float(value)
            setattr(self, name, value)


@dataclass
class ServedRequest:
    """When one request held a service slot, on the monotonic clock."""

    label: str
    started: float
    finished: float


@dataclass
class Stats:
    """Counters a test or benchmark can read; ``requests`` is keyed ``"GET /orders/{id}"``."""

    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    orders_created: int = 0
    orders_written: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    waiting: int = 0
    max_waiting: int = 0
    served: deque[ServedRequest] = field(default_factory=lambda: deque(maxlen=10_000))

    def total_requests(self) -> int:
        return sum(self.requests.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "total_requests": self.total_requests(),
            "faults": dict(self.faults),
            "orders_created": self.orders_created,
            "orders_written": self.orders_written,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "waiting": self.waiting,
            "max_waiting": self.max_waiting,
            "served": [{"label": s.label, "started": s.started, "finished": s.finished} for s in self.served],
        }


def monotonic() -> float:
    return time.monotonic()
