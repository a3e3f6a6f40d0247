"""What a replica holds for its refunds (`write.refunds.replica_state`) and the decimals its
store writes (`write.refunds.price_decimals`)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, cast

import pytest

from app.sync.plan.mapping import ORIGIN_ITEM_META, ORIGIN_REFUND_META
from app.sync.write.refunds import price_decimals, replica_state
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import AuthenticationError, RetriableError


def mark(origin_line: int) -> list[dict[str, Any]]:
    return [{"key": ORIGIN_ITEM_META, "value": str(origin_line)}]


PARTIAL_COPY = {
    "total": "19.99",
    "refunds": [{"id": 71, "total": "-15.00"}],
    "line_items": [{"id": 801, "total": "19.99", "total_tax": "0.00", "meta_data": mark(11)}],
    "shipping_lines": [{"id": 803, "total": "0.00", "total_tax": "0.00", "meta_data": mark(13)}],
    "fee_lines": [],
}
ITS_REFUNDS = [
    {
        "id": 71,
        "meta_data": [{"key": ORIGIN_REFUND_META, "value": "main:77:501"}],
        "line_items": [
            {
                "total": "-15.00",
                "total_tax": "0.00",
                "meta_data": [{"key": "_refunded_item_id", "value": "801"}],
            }
        ],
        "shipping_lines": [],
        "fee_lines": [],
    }
]


def test_each_line_holds_its_total_less_what_the_copys_refunds_took() -> None:
    state = replica_state(PARTIAL_COPY, ITS_REFUNDS, full=False, decimals=3)
    assert state.lines == {"11": 801, "13": 803}
    assert state.room == {"11": D("4.99"), "13": D("0.00")}
    assert (state.total, state.refunded, state.copied) == (D("19.99"), D("15.00"), frozenset({501}))
    assert state.decimals == 3 and state.full is False


class Store:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def general_setting(self, name: str) -> Any:
        assert name == "woocommerce_price_num_decimals"
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_the_stores_decimals_and_the_currencys_when_it_will_not_say() -> None:
    def client(answer: Any) -> WooCommerceClient:
        return cast(WooCommerceClient, Store(answer))

    assert await price_decimals(client("3"), "USD") == 3
    assert await price_decimals(client("0"), "EUR") == 0
    refused = AuthenticationError("lacks manage_woocommerce", status=403, code="woocommerce_rest_cannot_view")
    assert await price_decimals(client(refused), "KWD") == 3
    assert await price_decimals(client(refused), "JPY") == 0
    with pytest.raises(RetriableError):  # a store that is down is not guessed at
        await price_decimals(client(RetriableError("down", status=503, kind="server_error")), "KWD")
