"""How wcsync reads order amounts: to the six places WooCommerce keeps them.

WooCommerce stores a line's subtotal and total, and each item's taxes, to six places
(``wc_get_rounding_precision()``) and shows them at the store's two. A line priced 13.35 with
20 % tax included is 11.125 + 2.225, shown 11.13. Taxes are computed from the stored amounts,
so a copy sent 11.13 is taxed 2.23 where its origin was taxed 2.22; sent 11.125 it is taxed as
its origin (docs/woocommerce-behaviour.md, "Taxes: what a REST create recomputes"). Orders are
therefore read with ``dp=6``.
"""

from __future__ import annotations

from typing import Any

ORDER_DP = 6


def shown_amount(value: Any, places: int = 2) -> str:
    """An amount read at ``dp=6`` as the store shows it: the zeros past ``places`` (the
    currency's decimals) dropped ("71.320000" -> "71.32", "10.005000" -> "10.005", and
    "3330.000000" -> "3330" for yen); anything else as it came."""
    text = "" if value is None else str(value)
    whole, dot, fraction = text.partition(".")
    if not dot or not fraction.isdigit() or not whole.lstrip("-").isdigit():
        return text
    kept = fraction.rstrip("0").ljust(places, "0")
    return f"{whole}.{kept}" if kept else whole
