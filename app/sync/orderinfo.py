"""What an admin sees of an order without opening it: its customer, total, date and status, and
where its WooCommerce admin screen is. Pure functions of what the stores answered."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from app.sync.context import parse_gmt
from app.sync.plan.money import currency_decimals
from app.woocommerce.amounts import shown_amount

OrderStorage = Literal["posts", "hpos"]

# The order datastore WooCommerce names in system_status when orders live in its own tables.
_HPOS_DATASTORE = "OrdersTableDataStore"
CUSTOMER_MAX = 200


def order_summary(order: dict[str, Any]) -> dict[str, Any]:
    """The summary columns of a source order (app.models.SourceOrder) from its REST body:
    the billing name (else the shipping name, else the company), the total and its currency as
    the store shows them (read at six places, shown at two or more), and when it was placed
    (UTC)."""

    def name(section: Any) -> str:
        if not isinstance(section, dict):
            return ""
        parts = (section.get("first_name"), section.get("last_name"))
        full = " ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())
        return full or (str(section.get("company") or "").strip())

    customer = name(order.get("billing")) or name(order.get("shipping"))
    total, currency = order.get("total"), order.get("currency")
    return {
        "customer": customer[:CUSTOMER_MAX] or None,
        "total": shown_amount(total, currency_decimals(currency))[:32]
        if isinstance(total, str | int | float) and total != ""
        else None,
        "currency": str(currency)[:8] if isinstance(currency, str) and currency else None,
        "created_gmt": parse_gmt(order.get("date_created_gmt")),
    }


def order_storage(system_status: dict[str, Any]) -> OrderStorage | None:
    """Where a store keeps its orders, from `GET /system_status?_fields=settings`: WooCommerce
    7.8 and 10.6 both answer `settings.HPOS_enabled` and `settings.order_datastore`
    (tests/woocommerce/recorded/real-*/s07-system-status.json). None when it does not say."""
    settings = system_status.get("settings")
    if not isinstance(settings, dict):
        return None
    enabled = settings.get("HPOS_enabled")
    if isinstance(enabled, bool):
        return "hpos" if enabled else "posts"
    datastore = settings.get("order_datastore")
    if isinstance(datastore, str) and datastore:
        return "hpos" if _HPOS_DATASTORE in datastore else "posts"
    return None


def order_admin_url(base_url: str, storage: str | None, order_id: int | None) -> str | None:
    """The order's edit screen in the store's WordPress admin, which differs by storage: the
    posts screen (`post.php?post=ID&action=edit`) or the HPOS one
    (`admin.php?page=wc-orders&action=edit&id=ID`). None when the storage is not known yet
    (the store check finds it) or there is no order."""
    if order_id is None or storage not in ("posts", "hpos"):
        return None
    admin = f"{base_url.rstrip('/')}/wp-admin/"
    number = quote(str(int(order_id)))
    if storage == "hpos":
        return f"{admin}admin.php?page=wc-orders&action=edit&id={number}"
    return f"{admin}post.php?post={number}&action=edit"


def keep_summary(snapshot: Any) -> None:
    """Refresh a source order's summary columns from its body (call after the body changes)."""
    for key, value in order_summary(snapshot.body or {}).items():
        setattr(snapshot, key, value)
