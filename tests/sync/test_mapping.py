from __future__ import annotations

import pytest

from app.errors import InvalidOrderData, MissingSku, UnknownSku
from app.sync.plan.mapping import ORIGIN_META, ProductRef, map_order, meta_value, parse_origin
from tests.factories import make_order

CATALOG = {"SKU-MUG-001": ProductRef(31), "SKU-TSHIRT-RED": ProductRef(29), "SKU-VAR": ProductRef(40, 41)}


class TestMapOrder:
    def test_products_by_target_sku_and_totals_kept(self) -> None:
        order = make_order(items=[("SKU-MUG-001", 2, "15.50"), ("SKU-VAR", 1, "3.00")])
        payload = map_order(order, origin_store="main", target_store="sub1", catalog=CATALOG).payload
        lines = payload["line_items"]
        assert [(li["product_id"], li["variation_id"], li["quantity"], li["total"]) for li in lines] == [
            (31, 0, 2, "15.50"),
            (40, 41, 1, "3.00"),
        ]
        assert all("sku" not in li and "name" not in li for li in lines)

    def test_origin_meta_guest_customer_no_coupons(self) -> None:
        order = make_order(coupon_lines=[{"code": "SAVE10", "discount": "1.00"}])
        payload = map_order(order, origin_store="main", target_store="sub1", catalog=CATALOG).payload
        assert meta_value(payload, ORIGIN_META) == "main:101"
        assert meta_value(payload, "_wcsync_coupons") == "SAVE10"
        assert payload["customer_id"] == 0
        assert "coupon_lines" not in payload
        assert payload["set_paid"] is False
        assert payload["billing"]["email"] == "ada@example.test"
        assert payload["shipping_lines"] == [
            {
                "method_id": "flat_rate",
                "method_title": "Flat rate",
                "instance_id": "",
                "total": "5.00",
                "meta_data": [{"key": "_wcsync_origin_item", "value": "9"}],
            }
        ]

    def test_unknown_sku_names_store_and_sku(self) -> None:
        order = make_order(items=[("SKU-NOPE", 1, "1.00")])
        with pytest.raises(UnknownSku) as info:
            map_order(order, origin_store="main", target_store="sub1", catalog=CATALOG)
        assert "SKU-NOPE" in info.value.message and "'sub1'" in info.value.message
        assert info.value.skus == ["SKU-NOPE"]
        assert "routing" in info.value.message

    def test_unknown_sku_on_the_way_to_the_main_store_never_advises_routing(self) -> None:
        """Every sub-store order goes to the main store whatever the routing: the advice is to
        fix a catalogue, the main store's or the sub-store's SKU."""
        order = make_order(items=[("SKU-NOPE", 1, "1.00")])
        with pytest.raises(UnknownSku) as info:
            map_order(order, origin_store="sub1", target_store="main", catalog=CATALOG, to_main=True)
        message = info.value.message
        assert "routing" not in message
        assert "main store 'main'" in message and "SKU-NOPE" in message
        assert "add the product to the main store" in message and "store 'sub1'" in message

    def test_product_without_sku_is_refused(self) -> None:
        with pytest.raises(MissingSku, match="item 0"):
            map_order(
                make_order(items=[(None, 1, "1.00")]), origin_store="main", target_store="s", catalog=CATALOG
            )

    def test_routing_by_sku_leaves_out_lines_the_target_does_not_sell(self) -> None:
        order = make_order(items=[("SKU-MUG-001", 1, "9.50"), ("SKU-NOPE", 1, "1.00")])
        mapped = map_order(order, origin_store="main", target_store="s", catalog=CATALOG, only_sold=True)
        assert [li["product_id"] for li in mapped.payload["line_items"]] == [31]
        assert mapped.left_out_skus == ["SKU-NOPE"]
        assert meta_value(mapped.payload, "_wcsync_lines_elsewhere") == "SKU-NOPE"

    @pytest.mark.parametrize(
        ("override", "needle"),
        [
            ({"status": "Not a status!"}, "status"),  # a plugin's slug is checked per store
            ({"currency": "dollars"}, "Currency"),
            ({"billing": {"email": "not-an-email"}}, "email"),
            ({"line_items": []}, "no line items"),
            ({"id": "12"}, "numeric id"),
        ],
    )
    def test_what_a_batch_would_silently_coerce_is_refused(
        self, override: dict[str, object], needle: str
    ) -> None:
        with pytest.raises(InvalidOrderData, match=needle):
            map_order(make_order(**override), origin_store="main", target_store="s", catalog=CATALOG)

    def test_bad_quantity_and_amount(self) -> None:
        with pytest.raises(InvalidOrderData, match="quantity"):
            map_order(
                make_order(items=[("SKU-MUG-001", 0, "1.00")]),
                origin_store="m",
                target_store="s",
                catalog=CATALOG,
            )
        with pytest.raises(InvalidOrderData, match="amount"):
            map_order(
                make_order(items=[("SKU-MUG-001", 1, "abc")]),
                origin_store="m",
                target_store="s",
                catalog=CATALOG,
            )


class TestParseOrigin:
    def test_reads_store_and_id(self) -> None:
        assert parse_origin(make_order(meta={ORIGIN_META: "sub-2:881"})) == ("sub-2", 881)

    @pytest.mark.parametrize("value", ["", "main", "main:abc", ":12", None])
    def test_malformed_values_are_not_origins(self, value: str | None) -> None:
        order = make_order(meta={ORIGIN_META: value} if value is not None else {})
        assert parse_origin(order) is None
