"""The money module: amounts parsed exactly, rounded once, to the decimals of the store they go
to; splits that sum exactly to what they split."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.errors import InvalidOrderData
from app.sync.plan import money


class TestParsing:
    def test_amounts_are_kept_exactly(self) -> None:
        assert money.parse("1.235") == D("1.235")
        assert money.parse("10.005") == D("10.005")
        assert money.parse("100") == D("100")
        assert money.parse(12.5) == D("12.5")
        assert money.parse("") == money.parse(None) == D(0)

    def test_what_is_not_an_amount_is_said(self) -> None:
        for bad in ("abc", "NaN", "Infinity", True, [1]):
            assert money.parse(bad) is None
        with pytest.raises(InvalidOrderData, match="Total of 'Mug' is not an amount: 'abc'"):
            money.require("abc", "Total of 'Mug'")
        assert money.comparable("abc").is_nan()
        assert money.magnitude("abc") == D(0)

    def test_a_refund_total_reads_back_negative(self) -> None:
        assert money.magnitude("-1.235") == D("1.235")


class TestDecimals:
    def test_currencies_know_their_iso_decimals(self) -> None:
        assert money.currency_decimals("KWD") == 3
        assert money.currency_decimals("JPY") == 0
        assert money.currency_decimals("usd") == 2
        assert money.currency_decimals("") == 2

    def test_the_store_setting_wins_and_the_currency_stands_in(self) -> None:
        assert money.store_decimals("3", "USD") == 3
        assert money.store_decimals("0", "EUR") == 0
        assert money.store_decimals(None, "KWD") == 3
        assert money.store_decimals("three", "JPY") == 0
        assert money.store_decimals("-1", "KWD") == 3

    def test_amounts_are_written_to_the_stores_places_never_to_the_cent(self) -> None:
        """Issue 15 item 7: a KWD refund of 1.235 was sent as 1.24."""
        assert money.text(D("1.235"), 3) == "1.235"
        assert money.text(D("10.005"), 3) == "10.005"
        assert money.text(D("33.3333"), 0) == "33"
        assert money.text(D("1.235"), 2) == "1.24"  # half up, as wc_format_decimal
        assert money.text(D("7"), 2) == "7.00"
        assert money.fits(D("1.235"), 3) and not money.fits(D("1.235"), 2)


class TestSplit:
    def test_a_yen_split_is_whole_yen_and_sums_exactly(self) -> None:
        """Issue 15 item 7: a JPY split gave 33.30 yen."""
        shares = money.split(D("100"), {"a": D("1"), "b": D("1"), "c": D("1")}, D("3"), 0)
        assert sorted(shares.values()) == [D("33"), D("33"), D("34")]
        assert sum(shares.values()) == D("100")
        assert all(share == share.to_integral_value() for share in shares.values())

    def test_a_dinar_split_keeps_three_places(self) -> None:
        shares = money.split(D("1.235"), {"a": D("2"), "b": D("1")}, D("3"), 3)
        assert shares == {"a": D("0.823"), "b": D("0.412")}
        assert sum(shares.values()) == D("1.235")

    def test_shares_of_part_of_the_order_sum_to_that_part(self) -> None:
        # 10.00 over lines worth 45.00 and 19.99 of a 69.99 order (5.00 shipping stays home).
        shares = money.split(D("10.00"), {"hoodie": D("45.00"), "tee": D("19.99")}, D("69.99"), 2)
        assert shares == {"hoodie": D("6.43"), "tee": D("2.86")}
        assert sum(shares.values()) == money.rounded(D("10.00") * D("64.99") / D("69.99"), 2)

    @pytest.mark.parametrize("decimals", [0, 2, 3])
    def test_every_split_sums_exactly(self, decimals: int) -> None:
        weights = {f"s{i}": D(w) for i, w in enumerate(["7.77", "1.01", "3.33", "0.5", "12"])}
        whole = sum(weights.values(), D(0))
        for amount in ("0.01", "1", "9.99", "100", "12345.678"):
            shares = money.split(D(amount), weights, whole, decimals)
            assert sum(shares.values()) == money.rounded(D(amount), decimals)
            assert all(money.fits(share, decimals) and share >= 0 for share in shares.values())

    def test_nothing_is_split_over_nothing(self) -> None:
        assert money.split(D("5"), {"a": D("1")}, D(0), 2) == {"a": D(0)}
        assert money.split(D(0), {"a": D("1")}, D("1"), 2) == {"a": D(0)}
