"""A plugin's order status: written where the target registers it, mapped where WCSYNC_STATUS_MAP
says, refused in words otherwise (planner.status_for_store, pure)."""

from __future__ import annotations

import pytest

from app.config import parse_status_map
from app.errors import StatusNotOnStore
from app.sync.plan.planner import CORE_STATUSES, status_for_store

WITH_SHIPPED = CORE_STATUSES | {"shipped", "awaiting-pickup"}
WITHOUT_SHIPPED = CORE_STATUSES | {"awaiting-pickup"}


def test_a_status_the_store_has_is_written_as_it_is() -> None:
    for status in ("processing", "shipped", "awaiting-pickup"):
        assert status_for_store(status, store="sub1", registered=WITH_SHIPPED, status_map={}) == status


def test_a_status_the_store_lacks_fails_naming_it_and_what_to_do() -> None:
    with pytest.raises(StatusNotOnStore) as info:
        status_for_store("shipped", store="sub2", registered=WITHOUT_SHIPPED, status_map={})
    message = str(info.value)
    assert "'sub2' has no order status 'shipped'" in message
    assert 'WCSYNC_STATUS_MAP="sub2:shipped=completed"' in message
    assert info.value.code == "status_not_on_store"


def test_the_map_applies_only_where_the_store_lacks_the_status() -> None:
    mapping = parse_status_map("shipped=completed, sub2:awaiting-pickup=on-hold")
    assert status_for_store("shipped", store="sub2", registered=WITHOUT_SHIPPED, status_map=mapping) == (
        "completed"
    )
    assert status_for_store("shipped", store="sub1", registered=WITH_SHIPPED, status_map=mapping) == "shipped"
    # A store's own entry comes first; another store's entry is not used.
    lacking = CORE_STATUSES
    assert status_for_store("awaiting-pickup", store="sub2", registered=lacking, status_map=mapping) == (
        "on-hold"
    )
    with pytest.raises(StatusNotOnStore):
        status_for_store("awaiting-pickup", store="sub3", registered=lacking, status_map=mapping)


def test_a_map_to_a_status_the_store_lacks_too_is_refused() -> None:
    mapping = parse_status_map("shipped=awaiting-pickup")
    with pytest.raises(StatusNotOnStore):
        status_for_store("shipped", store="sub2", registered=CORE_STATUSES, status_map=mapping)


def test_unknown_statuses_count_as_woocommerces_own() -> None:
    assert status_for_store("completed", store="x", registered=None, status_map={}) == "completed"
    with pytest.raises(StatusNotOnStore):
        status_for_store("shipped", store="x", registered=None, status_map={})


@pytest.mark.parametrize("bad", ["shipped", "shipped=", ":shipped=completed", "Shipped!=completed"])
def test_a_malformed_map_is_refused_with_the_entry_named(bad: str) -> None:
    with pytest.raises(ValueError, match="WCSYNC_STATUS_MAP entry"):
        parse_status_map(bad)
