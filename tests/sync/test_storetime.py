"""Store time: a floor taken through the measured skew never falls above an order placed after
it, whatever the store's clock and the round trips that measured it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import Store, StoreRole
from app.sync.storetime import new_orders_floor
from app.woocommerce.clock import SkewEstimate

ADDED = datetime(2026, 11, 24, 10, 0, 0, 250_000, tzinfo=UTC)


def store_added() -> Store:
    return Store(
        name="sub1",
        role=StoreRole.sub,
        base_url="http://127.0.0.1:1",
        consumer_key="ck",
        consumer_secret="cs",
        created_at=ADDED,
    )


def on_store(ours: datetime, offset: float) -> datetime:
    """What WooCommerce records for a moment of ours: the store's clock, whole seconds."""
    return (ours + timedelta(seconds=offset)).replace(microsecond=0)


def test_an_order_placed_just_after_the_store_was_added_is_above_its_floor() -> None:
    """The store is 1.6 s behind; one reply stamped late in a 1 s round trip. The old estimate
    (0 +- 1.0) put the floor 1.0 s before the moment of adding on the store's clock, but the store's
    clock then read 1.6 s before it: an order placed 0.3 s after adding was never replicated."""
    offset = -1.6
    est = SkewEstimate()
    sent = ADDED + timedelta(seconds=0.65)
    est.add(on_store(sent + timedelta(seconds=0.9), offset), sent=sent, received=sent + timedelta(seconds=1))
    skew = est.skew()
    assert skew is not None
    floor = new_orders_floor(store_added(), skew).replace(microsecond=0)
    placed = on_store(ADDED + timedelta(seconds=0.3), offset)
    assert placed >= floor, (skew, floor, placed)


@settings(max_examples=300, deadline=None)
@given(
    offset=st.one_of(
        st.floats(min_value=-3.0, max_value=3.0, allow_nan=False),
        st.floats(min_value=-90.0, max_value=90.0, allow_nan=False),
    ),
    trips=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=30.0),  # sent, seconds after adding
            st.floats(min_value=0.0, max_value=4.0),  # round trip
            st.floats(min_value=0.0, max_value=1.0),  # where in it the store stamped its Date
        ),
        min_size=1,
        max_size=6,
    ),
    after=st.floats(min_value=0.0, max_value=5.0),
)
def test_no_order_placed_after_adding_falls_below_the_floor(
    offset: float, trips: list[tuple[float, float, float]], after: float
) -> None:
    est = SkewEstimate()
    for at, flight, where in trips:
        sent = ADDED + timedelta(seconds=at)
        stamped = sent + timedelta(seconds=flight * where)
        est.add(on_store(stamped, offset), sent=sent, received=sent + timedelta(seconds=flight))
    skew = est.skew()
    assert skew is not None
    # As discovery compares them: the floor in whole seconds against the order's date_created_gmt.
    floor = new_orders_floor(store_added(), skew).replace(microsecond=0)
    assert on_store(ADDED + timedelta(seconds=after), offset) >= floor
