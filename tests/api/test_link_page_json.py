"""`/api/links` writes its page with orjson from plain dicts; the bytes must be those the pydantic
models give (the response model the OpenAPI document declares)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from app.api.schemas import LinkPage, LinkRead, link_page_json
from app.models import Direction, LinkState

NAMES = {1: "main", 2: "sub1", 3: "gone"}
STORES = {
    1: SimpleNamespace(name="main", base_url="https://main.example.com", order_storage="posts"),
    2: SimpleNamespace(name="sub1", base_url="https://sub1.example.com/shop", order_storage="hpos"),
    # store 3: archived, not in the facts; store 4: not even named
}


def link(i: int, **values: object) -> SimpleNamespace:
    row = {
        "id": i,
        "direction": Direction.main_to_sub,
        "origin_store_id": 1,
        "origin_order_id": 1000 + i,
        "target_store_id": 2,
        "target_order_id": 5000 + i,
        "state": LinkState.synced,
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": None,
        "last_error_code": None,
        "synced_at": datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=UTC),
    }
    row.update(values)
    return SimpleNamespace(**row)


def test_the_page_is_the_bytes_the_models_give() -> None:
    links = [
        link(1),
        link(
            2,
            state=LinkState.failed,
            attempts=7,
            target_order_id=None,
            next_attempt_at=datetime(2026, 12, 1, 0, 0, 0, 120000, tzinfo=UTC),
            last_error='SKU "MUG-ü" unknown\non sub1 \u2028 \\ / \x07',
            last_error_code="unknown_sku",
            synced_at=None,
        ),
        link(3, direction="sub_to_main", state="pending", origin_store_id=2, target_store_id=1),
        link(4, target_store_id=3),
        link(5, target_store_id=4, origin_order_id=99),
    ]
    orders = {
        (1, 1001): SimpleNamespace(
            status="processing",
            customer="Ada Lovelace",
            total="27.25",
            currency="EUR",
            created_gmt=datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC),
        ),
        (1, 1002): SimpleNamespace(
            status="on-hold", customer=None, total=None, currency=None, created_gmt=None
        ),
        (2, 1003): SimpleNamespace(
            status="completed", customer="Zoë «Ö»", total="0.10", currency="GBP", created_gmt=None
        ),
    }
    expected = LinkPage.model_construct(
        items=[LinkRead.of(ln, NAMES, stores=STORES, orders=orders) for ln in links],
        total=1_000_000,
        limit=5,
        offset=0,
        next_before=5,
    ).model_dump_json()
    got = link_page_json(
        links, NAMES, stores=STORES, orders=orders, total=1_000_000, limit=5, offset=0, next_before=5
    )
    assert got.decode() == expected


def test_an_empty_last_page() -> None:
    expected = LinkPage.model_construct(
        items=[], total=0, limit=50, offset=0, next_before=None
    ).model_dump_json()
    got = link_page_json([], NAMES, stores=STORES, orders={}, total=0, limit=50, offset=0, next_before=None)
    assert got.decode() == expected
