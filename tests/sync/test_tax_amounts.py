"""A copy's taxes equal its origin's when it is sent the origin's amounts as WooCommerce keeps
them: to six places (issue 15, item 6; docs/woocommerce-behaviour.md, "Taxes"). The client reads
orders with `dp=6` (tests/woocommerce/test_client.py); here, what mapping and planning do with
what it reads."""

from __future__ import annotations

from typing import Any

import pytest

from app.sync.plan.conflicts import same_version
from app.sync.plan.mapping import ProductRef, map_order, meta_value
from app.sync.plan.planner import plan_update
from app.woocommerce.amounts import shown_amount
from tests.factories import make_order

CATALOG = {"SKU-TAX-1335": ProductRef(31), "SKU-TAX-0299": ProductRef(32)}


def taxed_origin() -> dict[str, Any]:
    """An order of a store whose prices include 20 % tax, read at six places: 13.35 is 11.125 +
    2.225 (WooCommerce shows 11.13 at two places, and taxes the line 2.22)."""
    return make_order(
        items=[("SKU-TAX-1335", 1, "11.125000"), ("SKU-TAX-0299", 3, "7.475000")],
        total="30.510000",
        shipping_lines=[
            {"id": 9, "method_id": "flat_rate", "method_title": "Flat rate", "total": "4.990000"}
        ],
        fee_lines=[{"id": 10, "name": "Card surcharge", "total": "1.235000", "tax_status": "taxable"}],
    )


def desired() -> dict[str, Any]:
    payload: dict[str, Any] = map_order(
        taxed_origin(), origin_store="main", target_store="sub1", catalog=CATALOG
    ).payload
    return payload


def replica_of(payload: dict[str, Any], **line_amounts: str) -> dict[str, Any]:
    """The copy as its store answers it at six places; `line_amounts` overrides the first line's
    subtotal and total (a copy an older wcsync made from the cents)."""
    replica = {**payload, "id": 500, "status": payload["status"]}
    for section in ("line_items", "shipping_lines", "fee_lines"):
        replica[section] = [
            {**line, "id": 700 + index, "meta_data": [{"id": 900 + index, **m} for m in line["meta_data"]]}
            for index, line in enumerate(payload[section])
        ]
    replica["line_items"][0].update(line_amounts)
    replica["meta_data"] = [{"id": 800 + i, **m} for i, m in enumerate(payload["meta_data"])]
    return replica


class TestTheCopyIsSentTheOriginsSixPlaces:
    def test_lines_shipping_and_fees_keep_every_place(self) -> None:
        payload = desired()
        assert [(li["subtotal"], li["total"]) for li in payload["line_items"]] == [
            ("11.125000", "11.125000"),
            ("7.475000", "7.475000"),
        ]
        assert [s["total"] for s in payload["shipping_lines"]] == ["4.990000"]
        assert [(f["total"], f["tax_status"]) for f in payload["fee_lines"]] == [("1.235000", "taxable")]

    def test_the_origin_total_is_noted_as_the_store_shows_it(self) -> None:
        # As wcsync wrote it when it read the cents: a copy made then plans no meta change.
        assert meta_value(desired(), "_wcsync_origin_total") == "30.51"


class TestPlanning:
    def test_a_copy_made_from_the_six_places_plans_to_nothing(self) -> None:
        payload = desired()
        assert plan_update(payload, replica_of(payload), status=None) == {}

    def test_a_copy_made_from_the_cents_gets_the_six_places(self) -> None:
        """A copy an older wcsync made from the cents (11.13, taxed 2.23): the update sends the
        line's six places, and WooCommerce recomputes the order's taxes from its lines."""
        payload = desired()
        stale = replica_of(payload, subtotal="11.130000", total="11.130000")
        plan = plan_update(payload, stale, status=None)
        assert plan == {"line_items": [{"id": 700, "subtotal": "11.125000", "total": "11.125000"}]}

    def test_amounts_equal_to_every_place_are_equal_however_written(self) -> None:
        payload = desired()
        assert (
            plan_update(payload, replica_of(payload, subtotal="11.125", total="11.1250"), status=None) == {}
        )


@pytest.mark.parametrize(
    ("read", "shown"),
    [
        ("71.320000", "71.32"),
        ("10.005000", "10.005"),
        ("100.000000", "100.00"),
        ("-5.500000", "-5.50"),
        ("3330", "3330"),
        ("", ""),
        (None, ""),
        ("n/a", "n/a"),
    ],
)
def test_an_amount_read_at_six_places_is_shown_as_the_store_shows_it(read: Any, shown: str) -> None:
    assert shown_amount(read) == shown


@pytest.mark.parametrize(
    ("read", "places", "shown"),
    [("3330.000000", 0, "3330"), ("10.005000", 3, "10.005"), ("10.000000", 3, "10.000"), ("12.5", 0, "12.5")],
)
def test_an_amount_is_shown_to_its_currencys_decimals(read: str, places: int, shown: str) -> None:
    assert shown_amount(read, places) == shown


def test_a_writes_reply_at_two_places_is_the_same_version_as_a_read_at_six() -> None:
    """A write's reply (a batch answers at the store's two places) and the next read at six
    places are one version: no "changed" is queued for it (tests/e2e/test_two_way.py, no echo)."""
    read = make_order(items=[("SKU-MUG-001", 2, "19.000000")])
    reply = make_order(items=[("SKU-MUG-001", 2, "19.00")])
    assert same_version(read, reply)
    assert not same_version(read, make_order(items=[("SKU-MUG-001", 2, "19.010000")]))
