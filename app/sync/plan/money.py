"""Money: every amount wcsync reads, compares, splits or sends is parsed and rounded here.

Amounts are `Decimal`, never floats. WooCommerce answers money as strings formatted to the
store's price decimals (`woocommerce_price_num_decimals`: "10.005" on a store set to 3, "100" on
one set to 0) and keeps refund amounts and line totals exactly as they were sent (measured on
WooCommerce 7.8 and 10.6: a KWD refund of 1.235 reads back "-1.235"). So nothing is rounded on
the way in; an amount is rounded only when wcsync computes a new one (a share of a refund), and
then to the decimals of the store it is sent to: that store checks a refund against its own
remainder rounded to those decimals, and refuses one above it ("Invalid refund amount", a 500).
Where a store's decimals are unknown, the currency's ISO 4217 minor unit stands in.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.errors import InvalidOrderData

ZERO = Decimal(0)
DEFAULT_DECIMALS = 2

# ISO 4217 minor units of the currencies WooCommerce offers that do not have two.
ISO_DECIMALS: Mapping[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip


def currency_decimals(currency: Any) -> int:
    """The ISO 4217 decimals of a currency code (2 for one not listed)."""
    return ISO_DECIMALS.get(str(currency or "").upper(), DEFAULT_DECIMALS)


def store_decimals(setting: Any, currency: Any) -> int:
    """A store's price decimals from its `woocommerce_price_num_decimals` setting, or the
    currency's when the setting is missing or not a small whole number."""
    try:
        value = int(str(setting).strip())
    except (TypeError, ValueError):
        return currency_decimals(currency)
    return value if 0 <= value <= 8 else currency_decimals(currency)


def parse(value: Any) -> Decimal | None:
    """A WooCommerce money value (a string, or a JSON number) as a Decimal; empty is 0, and
    anything that is not a finite number is None."""
    if isinstance(value, bool):
        return None
    if value is None or value == "":
        return ZERO
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def require(value: Any, what: str) -> Decimal:
    """Like `parse`, but an amount that is not one is the order's fault, said in words."""
    amount = parse(value)
    if amount is None:
        raise InvalidOrderData(f"{what} is not an amount: {value!r}.")
    return amount


def comparable(value: Any) -> Decimal:
    """For comparing two amounts: one that is not an amount equals no other (NaN)."""
    amount = parse(value)
    return Decimal("NaN") if amount is None else amount


def magnitude(value: Any) -> Decimal:
    """An amount's size (refund totals read back negative); not an amount is 0."""
    amount = parse(value)
    return abs(amount) if amount is not None else ZERO


def rounded(value: Decimal, decimals: int) -> Decimal:
    """Half up to `decimals` places, as WooCommerce's `wc_format_decimal` rounds."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def text(value: Decimal, decimals: int) -> str:
    """An amount to send: exactly `decimals` places ("1.235", "100", "10.00")."""
    return f"{rounded(value, decimals):.{decimals}f}"


def fits(value: Decimal, decimals: int) -> bool:
    """Whether an amount has no more places than `decimals`."""
    return rounded(value, decimals) == value


def split(
    amount: Decimal, weights: Mapping[str, Decimal], whole: Decimal, decimals: int
) -> dict[str, Decimal]:
    """`amount x weight / whole` for each name, at `decimals` places, summing exactly to
    `amount x sum(weights) / whole` rounded to those places: each share is first rounded down,
    then the units left over go one each to the largest remainders (largest weight first on a
    tie, then by name). A share is never negative; nothing is split over a `whole` of 0."""
    if whole <= 0 or not weights or amount <= 0:
        return {name: ZERO for name in weights}
    unit = Decimal(1).scaleb(-decimals)
    target = rounded(amount * sum(weights.values(), ZERO) / whole, decimals)
    exact = {name: amount * max(weight, ZERO) / whole for name, weight in weights.items()}
    shares = {name: value.quantize(unit, rounding=ROUND_DOWN) for name, value in exact.items()}
    left = int((target - sum(shares.values(), ZERO)) / unit)
    order = sorted(weights, key=lambda name: (-(exact[name] - shares[name]), -weights[name], name))
    for name in order[: max(left, 0)]:
        shares[name] += unit
    return shares
