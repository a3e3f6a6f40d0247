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


# -- issue 15: currencies without two decimals, and shipping a partial copy never charged -------


def full_copy(total: str, decimals: int, refunded: str = "0", **kw: object) -> ReplicaState:
    return ReplicaState(
        lines={"11": 801},
        total=D(total),
        refunded=D(refunded),
        full=True,
        decimals=decimals,
        **kw,  # type: ignore[arg-type]
    )


def test_a_dinar_refund_is_sent_to_the_fils() -> None:
    """A KWD refund of 1.235 was sent as 1.24 (rounded to the cent)."""
    refund = OriginRefund(id=601, amount=D("1.235"), lines=(RefundLine("11", 1, D("1.235")),))
    (body,) = [
        w.body
        for w in plan_refunds(
            [refund], full_copy("10.005", 3), origin_store="main", origin_order_id=7, origin_total=D("10.005")
        )
    ]
    assert body["amount"] == "1.235"
    assert body["line_items"] == [{"id": 801, "quantity": 1, "refund_total": "1.235"}]


def test_a_full_dinar_refund_is_exactly_what_the_copy_has_left() -> None:
    """A full refund of a 10.005 order was sent as 10.01, which WooCommerce refuses (500)."""
    everything = OriginRefund(id=602, amount=D("10.005"))
    writes = plan_refunds(
        [everything], full_copy("10.005", 3), origin_store="main", origin_order_id=7, origin_total=D("10.005")
    )
    assert [w.body["amount"] for w in writes] == ["10.005"]
    # After a first refund of 1.235, the rest is 8.770: never above what is left.
    first = OriginRefund(id=601, amount=D("1.235"))
    writes = plan_refunds(
        [first, OriginRefund(id=603, amount=D("8.770"))],
        full_copy("10.005", 3, refunded="1.235", copied=frozenset({601})),
        origin_store="main",
        origin_order_id=7,
        origin_total=D("10.005"),
    )
    assert [w.body["amount"] for w in writes] == ["8.770"]


def test_a_yen_split_is_in_whole_yen_and_sums_exactly() -> None:
    """A JPY split gave 33.30 yen. Three partial copies each hold a third of a 300-yen order's
    lines (no shipping); a 100-yen amount-only refund is split 33 + 33 + 34."""
    values = {"a": D("100"), "b": D("100"), "c": D("100")}
    refund = OriginRefund(id=604, amount=D("100"))
    amounts = {}
    for name in values:
        state = ReplicaState(lines={}, total=D("100"), refunded=D(0), full=False, decimals=0)
        (write,) = plan_refunds(
            [refund],
            state,
            origin_store="main",
            origin_order_id=8,
            origin_total=D("300"),
            name=name,
            partial_values=values,
        )
        amounts[name] = write.body["amount"]
    assert sorted(amounts.values()) == ["33", "33", "34"]
    assert sum(D(a) for a in amounts.values()) == D("100")


SHIPPING_REFUND = OriginRefund(
    id=605, amount=D("5.00"), reason="late", lines=(RefundLine("13", 0, D("5.00")),)
)


def test_a_partial_copy_is_never_refunded_shipping_it_never_charged() -> None:
    """Issue 15 item 8: a partial copy carries the shipping at 0.00; the origin's 5.00 shipping
    refund was sent to every partial copy."""
    for state, name in (
        (hoodie_only(room={"12": D("45.00"), "13": D(0)}), "sub-hoodie"),
        (tshirt_only(room={"11": D("19.99"), "13": D(0)}), "sub-tshirt"),
    ):
        assert plan([SHIPPING_REFUND], state, name) == []


def test_a_full_copy_is_refunded_its_shipping() -> None:
    full = ReplicaState(
        lines={"11": 1, "12": 2, "13": 3},
        total=TOTAL,
        refunded=D(0),
        full=True,
        room={"11": D("19.99"), "12": D("45.00"), "13": D("5.00")},
    )
    (body,) = plan([SHIPPING_REFUND], full, "sub-all")
    assert body["amount"] == "5.00"
    assert body["line_items"] == [{"id": 3, "quantity": 0, "refund_total": "5.00"}]


def test_a_line_is_never_refunded_beyond_what_the_copy_holds_of_it() -> None:
    """The copy's T-shirt holds 19.99, of which its own refunds already took 15.00: an origin
    refund of the whole T-shirt line refunds the 4.99 left, with the line."""
    state = tshirt_only(room={"11": D("4.99"), "13": D(0)})
    (body,) = plan([TSHIRT_REFUND], state, "sub-tshirt")
    assert body["amount"] == "4.99"
    assert body["line_items"] == [{"id": 801, "quantity": 1, "refund_total": "4.99"}]
    # Two refunds of the same line in one plan share what the line holds.
    again = OriginRefund(id=506, amount=D("19.99"), lines=(RefundLine("11", 1, D("19.99")),))
    bodies = plan([TSHIRT_REFUND, again], tshirt_only(room={"11": D("19.99")}), "sub-tshirt")
    assert [b["amount"] for b in bodies] == ["19.99"]


def test_a_mixed_refund_gives_a_partial_copy_its_lines_and_its_share_only() -> None:
    """T-shirt 19.99 + shipping 5.00 + 3.00 goodwill, refunded at once on the origin: the hoodie
    copy gets its share of the 3.00 and none of the shipping; the T-shirt copy its line, and of
    its 0.86 share only what it has left (nothing: its lines are all it holds)."""
    refund = OriginRefund(
        id=507, amount=D("27.99"), lines=(RefundLine("11", 1, D("19.99")), RefundLine("13", 0, D("5.00")))
    )
    (hoodie,) = plan([refund], hoodie_only(room={"12": D("45.00"), "13": D(0)}), "sub-hoodie")
    # 3.00 x 45.00 / 69.99 = 1.9288 and 3.00 x 19.99 / 69.99 = 0.8568: 1.93 + 0.86 = 2.79, the
    # lines' part of 3.00 x 64.99 / 69.99 exactly.
    assert hoodie["amount"] == "1.93" and hoodie["line_items"] == []
    (tee,) = plan([refund], tshirt_only(room={"11": D("19.99"), "13": D(0)}), "sub-tshirt")
    assert tee["amount"] == "19.99"
    assert tee["line_items"] == [{"id": 801, "quantity": 1, "refund_total": "19.99"}]
