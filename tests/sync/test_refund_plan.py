"""Refunds by line, amount-only parts by share, never more than a replica has left."""

from __future__ import annotations

from decimal import Decimal as D

from app.sync.plan.mapping import ORIGIN_REFUND_META
from app.sync.plan.refunds import (
    OriginRefund,
    RefundLine,
    ReplicaState,
    allocate,
    origin_refunds,
    parse_origin_refund,
    plan_refunds,
)

# Origin: T-shirt (line 11) 19.99, hoodie (line 12) 45.00, shipping (line 13) 5.00 = 69.99.
TOTAL = D("69.99")
TSHIRT_REFUND = OriginRefund(
    id=501, amount=D("19.99"), reason="torn", lines=(RefundLine("11", 1, D("19.99")),)
)


def hoodie_only(**kw: object) -> ReplicaState:
    return ReplicaState(lines={"12": 901, "13": 903}, total=D("45.00"), refunded=D(0), full=False, **kw)  # type: ignore[arg-type]


def tshirt_only(**kw: object) -> ReplicaState:
    return ReplicaState(lines={"11": 801, "13": 803}, total=D("19.99"), refunded=D(0), full=False, **kw)  # type: ignore[arg-type]


VALUES = {"sub-hoodie": D("45.00"), "sub-tshirt": D("19.99")}


def plan(refunds: list[OriginRefund], replica: ReplicaState, name: str) -> list[dict[str, object]]:
    writes = plan_refunds(
        refunds,
        replica,
        origin_store="main",
        origin_order_id=77,
        origin_total=TOTAL,
        name=name,
        partial_values=VALUES,
    )
    return [w.body for w in writes]


def test_a_line_refund_reaches_only_the_replica_that_holds_the_line() -> None:
    assert plan([TSHIRT_REFUND], hoodie_only(), "sub-hoodie") == []
    (body,) = plan([TSHIRT_REFUND], tshirt_only(), "sub-tshirt")
    assert body["amount"] == "19.99"
    assert body["line_items"] == [{"id": 801, "quantity": 1, "refund_total": "19.99"}]
    assert body["api_refund"] is False and body["api_restock"] is False
    assert body["meta_data"] == [{"key": ORIGIN_REFUND_META, "value": "main:77:501"}]


def test_an_amount_only_refund_is_split_by_share_to_the_cent() -> None:
    refund = OriginRefund(id=502, amount=D("10.00"))
    hoodie = plan([refund], hoodie_only(), "sub-hoodie")
    tshirt = plan([refund], tshirt_only(), "sub-tshirt")
    # 10.00 x 45.00/69.99 = 6.4295 -> 6.43; 10.00 x 19.99/69.99 = 2.856 -> 2.86; together the
    # lines' share of the order, 10.00 x 64.99/69.99 = 9.2856 -> 9.29: the shipping's part stays
    # with the origin, which charged it.
    assert (hoodie[0]["amount"], tshirt[0]["amount"]) == ("6.43", "2.86")
    assert hoodie[0]["line_items"] == [] and tshirt[0]["line_items"] == []


def test_the_rounding_remainder_goes_to_the_largest_share() -> None:
    shares = allocate(D("0.10"), {"a": D("1"), "b": D("1"), "c": D("1")}, D("3"))
    assert sum(shares.values()) == D("0.10")
    assert shares == {"a": D("0.04"), "b": D("0.03"), "c": D("0.03")}
    assert allocate(D("100.00"), {"big": D("2"), "small": D("1")}, D("3")) == {
        "big": D("66.67"),
        "small": D("33.33"),
    }


def test_a_full_copy_takes_every_refund_whole() -> None:
    full = ReplicaState(lines={"11": 1, "12": 2, "13": 3}, total=TOTAL, refunded=D(0), full=True)
    refunds = [TSHIRT_REFUND, OriginRefund(id=502, amount=D("10.00"))]
    bodies = plan(refunds, full, "sub-all")
    assert [b["amount"] for b in bodies] == ["19.99", "10.00"]


def test_a_full_origin_refund_refunds_a_partial_copy_fully_and_no_more() -> None:
    """Issue 8, defect 3: the origin's 69.99 refund can never fit a 45.00 copy ('Invalid refund
    amount'); the copy is refunded its own 45.00."""
    everything = OriginRefund(id=503, amount=TOTAL, reason="returned")
    (body,) = plan([everything], hoodie_only(), "sub-hoodie")
    assert body["amount"] == "45.00"
    # After a first partial refund of 6.43 the rest is 38.57, never the origin's remainder.
    first = OriginRefund(id=502, amount=D("10.00"))
    rest = OriginRefund(id=504, amount=D("59.99"))
    replica = hoodie_only(copied=frozenset({502}))
    replica = ReplicaState(
        lines=replica.lines, total=replica.total, refunded=D("6.43"), copied=replica.copied, full=False
    )
    (body,) = plan([first, rest], replica, "sub-hoodie")
    assert body["amount"] == "38.57"


def test_a_refund_already_on_the_replica_is_never_planned_again() -> None:
    assert plan([TSHIRT_REFUND], tshirt_only(copied=frozenset({501})), "sub-tshirt") == []


def test_origin_refunds_take_amounts_from_the_order_and_lines_from_the_refunds() -> None:
    order = {"refunds": [{"id": 9, "reason": "size M returned", "total": "-22.00"}]}
    hpos_detail = {  # HPOS reads amount and reason back empty (recorded v09c); lines are right
        "id": 9,
        "amount": "0.00",
        "reason": "",
        "line_items": [
            {
                "quantity": -1,
                "total": "-22.00",
                "total_tax": "0.00",
                "meta_data": [{"key": "_refunded_item_id", "value": "889"}],
            }
        ],
    }
    assert origin_refunds(order, [hpos_detail]) == [
        OriginRefund(
            id=9, amount=D("22.00"), reason="size M returned", lines=(RefundLine("889", 1, D("22.00")),)
        )
    ]


def test_the_origin_refund_mark_is_read_back() -> None:
    assert parse_origin_refund({"meta_data": [{"key": ORIGIN_REFUND_META, "value": "main:77:501"}]}) == 501
    assert parse_origin_refund({"meta_data": []}) is None
