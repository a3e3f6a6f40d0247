from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.sync.plan.changes import (
    ReplicaChange,
    UpdatePlan,
    content_hash,
    desired_status,
    lines_of,
    plan_update,
    replica_change,
    replica_is_later,
)
from app.sync.plan.mapping import ORIGIN_ITEM_META, ProductRef, map_order
from tests.factories import make_order

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CATALOG = {"SKU-MUG-001": ProductRef(31), "SKU-STICKER": ProductRef(35)}


def payload(order: dict[str, object]) -> dict[str, object]:
    return map_order(order, origin_store="main", target_store="sub1", catalog=CATALOG).payload


def plan_for(
    order: dict[str, Any],
    *,
    replica_status: str = "processing",
    pushed: str | None = None,
    lines: dict[str, Any] | None = None,
    refunds_done: dict[str, Any] | None = None,
) -> UpdatePlan:
    """The plan for a replica that holds `replica_status` and, unless `pushed` says otherwise,
    the origin's current content."""
    return plan_update(
        payload(order),
        origin=order,
        replica_status=replica_status,
        pushed_content_hash=pushed if pushed is not None else content_hash(payload(order)),
        target_lines=lines,
        refunds_done=refunds_done or {},
    )


class TestPlanUpdate:
    def test_nothing_to_send_when_the_replica_matches(self) -> None:
        order = make_order()
        plan = plan_for(order)
        assert plan.empty

    def test_only_the_status_when_only_the_status_changed(self) -> None:
        order = make_order(status="completed")
        plan = plan_for(order)
        assert plan.changes == {"status": "completed"}

    def test_lines_are_updated_in_place_added_and_removed(self) -> None:
        order = make_order(items=[("SKU-MUG-001", 3, "28.50"), ("SKU-STICKER", 1, "3.25")])
        known = {"items": {"1000": 501, "999": 502}, "shipping": [601], "fees": []}
        plan = plan_for(order, pushed="old", lines=known)
        lines = plan.changes["line_items"]
        assert lines[0] == {
            "id": 501,
            "product_id": 31,
            "variation_id": 0,
            "quantity": 3,
            "subtotal": "28.50",
            "total": "28.50",
        }
        assert "id" not in lines[1] and lines[1]["product_id"] == 35  # a new line
        assert {"id": 502, "quantity": 0} in lines  # gone from the origin: deleted
        assert plan.changes["shipping_lines"][0] == {"id": 601, "method_id": None}

    def test_refunds_are_planned_once_with_no_money_moving(self) -> None:
        order = make_order(
            refunds=[
                {"id": 7, "reason": "scratched", "total": "-10.00"},
                {"id": 8, "reason": "", "total": "-2.50"},
            ]
        )
        plan = plan_for(order, refunds_done={"7": "70"})
        assert [r["origin_refund_id"] for r in plan.refunds] == ["8"]
        assert plan.refunds[0]["body"] == {
            "amount": "2.50",
            "reason": "",
            "api_refund": False,
            "api_restock": False,
        }

    def test_refunded_status_is_left_to_the_refunds(self) -> None:
        # Setting `refunded` would make WooCommerce refund the rest by itself (wc_order_fully_refunded).
        order = make_order(status="refunded", refunds=[{"id": 9, "reason": "", "total": "-24.00"}])
        plan = plan_for(order)
        assert "status" not in plan.changes and len(plan.refunds) == 1
        done = plan_for(order, refunds_done={"9": "90"})
        assert done.changes == {"status": "refunded"}

    def test_trash_cancels(self) -> None:
        assert desired_status("trash") == "cancelled" and desired_status("on-hold") == "on-hold"


class TestReplicaChange:
    def test_own_write_is_known(self) -> None:
        assert (
            replica_change(status="processing", modified=T0, known_status="processing", known_modified=T0)
            == ReplicaChange.known
        )

    def test_same_second_with_another_status_is_a_change(self) -> None:
        assert (
            replica_change(status="completed", modified=T0, known_status="processing", known_modified=T0)
            == ReplicaChange.status_changed
        )

    def test_newer_with_same_status_is_seen_only(self) -> None:
        assert (
            replica_change(
                status="processing",
                modified=T0 + timedelta(seconds=5),
                known_status="processing",
                known_modified=T0,
            )
            == ReplicaChange.seen
        )

    def test_trash_on_the_replica_store_does_not_flow_back(self) -> None:
        assert (
            replica_change(
                status="trash",
                modified=T0 + timedelta(seconds=5),
                known_status="processing",
                known_modified=T0,
            )
            == ReplicaChange.seen
        )

    def test_later_change_wins_and_a_tie_goes_to_the_origin(self) -> None:
        assert replica_is_later(origin_changed_at=T0, replica_changed_at=T0 + timedelta(seconds=1))
        assert not replica_is_later(origin_changed_at=T0, replica_changed_at=T0)


def test_lines_of_reads_the_replica_line_ids_by_origin_line() -> None:
    replica = {
        "line_items": [
            {"id": 5, "meta_data": [{"key": ORIGIN_ITEM_META, "value": "1000"}]},
            {"id": 6, "meta_data": []},
        ],
        "shipping_lines": [{"id": 7}],
        "fee_lines": [],
    }
    assert lines_of(replica) == {"items": {"1000": 5}, "shipping": [7], "fees": []}
