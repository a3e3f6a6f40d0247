"""The clock-skew estimate: whole-second Date headers and slow replies must not read as skew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.woocommerce.clock import SkewEstimate

T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def reading(est: SkewEstimate, *, at: float, flight: float, true_offset: float, served_after: float) -> None:
    """A request sent `at` seconds after T0, answered after `flight` seconds; the store stamped
    its Date `served_after` seconds into the flight, on a clock `true_offset` ahead of ours."""
    sent = T0 + timedelta(seconds=at)
    store_now = sent + timedelta(seconds=served_after + true_offset)
    header = store_now.replace(microsecond=0)  # the Date header has whole seconds
    est.add(header, sent=sent, received=sent + timedelta(seconds=flight))


def test_nothing_read_yet_is_none() -> None:
    assert SkewEstimate().seconds is None


def test_a_store_on_our_clock_reads_zero_whatever_the_fraction_of_its_second() -> None:
    for fraction in (0.0, 0.3, 0.5, 0.7, 0.99):
        est = SkewEstimate()
        reading(est, at=fraction, flight=0.01, true_offset=0.0, served_after=0.005)
        assert est.seconds == 0.0, fraction


def test_a_reply_that_was_slow_to_be_read_does_not_read_as_skew() -> None:
    """The old estimate (header minus time of reading) made this a 2.9 s skew; a store with a
    real skew of 0 then lost conflicts it should have won."""
    est = SkewEstimate()
    reading(est, at=10.95, flight=3.0, true_offset=0.0, served_after=0.01)
    assert est.seconds == 0.0
    reading(est, at=20.1, flight=0.02, true_offset=0.0, served_after=0.01)
    assert est.seconds == 0.0


def test_the_tightest_reading_wins() -> None:
    est = SkewEstimate()
    reading(est, at=1.2, flight=0.02, true_offset=300.0, served_after=0.01)
    reading(est, at=5.0, flight=8.0, true_offset=300.0, served_after=7.9)  # loose: reads ~304
    assert est.seconds is not None and abs(est.seconds - 300.0) <= 0.52


def test_real_skews_either_way_are_kept() -> None:
    for offset in (-1200.0, -3.0, 2.5, 3600.0):
        est = SkewEstimate()
        reading(est, at=0.4, flight=0.05, true_offset=offset, served_after=0.02)
        assert est.seconds is not None and abs(est.seconds - offset) <= 0.55, (offset, est.seconds)


def covers(est: SkewEstimate, offset: float) -> bool:
    skew = est.skew()
    assert skew is not None
    return skew.seconds - skew.bound <= offset <= skew.seconds + skew.bound


def test_a_reading_just_under_zero_is_not_moved_to_zero_with_the_same_bound() -> None:
    """A store 1.6 s behind us, stamped late in a 1 s round trip: the reading allows offsets
    from -2.0 to -0.1 (its middle -0.9 +- 1.0). The old estimate, finding 0 within the bound, read
    it as 0 +- 1.0, which excludes -1.6: an order placed just after the store was added then fell
    below its floor."""
    est = SkewEstimate()
    reading(est, at=0.9, flight=1.0, true_offset=-1.6, served_after=0.9)
    skew = est.skew()
    assert skew is not None
    assert covers(est, -1.6), skew


@settings(max_examples=400, deadline=None)
@given(
    true_offset=st.one_of(
        st.floats(min_value=-3.0, max_value=3.0, allow_nan=False),
        st.floats(min_value=-4000.0, max_value=4000.0, allow_nan=False),
    ),
    trips=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=600.0),  # sent, seconds after T0
            st.floats(min_value=0.0, max_value=5.0),  # round trip
            st.floats(min_value=0.0, max_value=1.0),  # when in the trip the store stamped its Date
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_the_estimate_always_contains_the_true_offset(
    true_offset: float, trips: list[tuple[float, float, float]]
) -> None:
    """Whatever the offset, the round trips and where in them the store stamped its whole-second
    Date, `seconds +- bound` contains the store's true offset (readings in any order)."""
    est = SkewEstimate()
    for at, flight, where in trips:
        reading(est, at=at, flight=flight, true_offset=true_offset, served_after=flight * where)
    skew = est.skew()
    assert skew is not None
    assert skew.seconds - skew.bound <= true_offset <= skew.seconds + skew.bound, skew
    # And never wider than the newest reading alone allows (its round trip plus the header's
    # second), however old or loose the others are.
    newest = max(trips, key=lambda trip: trip[0] + trip[1])
    assert skew.bound <= newest[1] + 1.0 + 0.002, skew


def test_readings_narrow_the_interval() -> None:
    """Replies stamped at different fractions of the store's second pin the offset closer than
    one reading can."""
    est = SkewEstimate()
    for k in range(10):
        reading(est, at=k + k / 10, flight=0.01, true_offset=42.37, served_after=0.005)
    skew = est.skew()
    assert skew is not None
    assert skew.seconds - skew.bound <= 42.37 <= skew.seconds + skew.bound
    assert skew.bound < 0.1, skew


def test_a_stepped_store_clock_follows_the_newest_readings() -> None:
    est = SkewEstimate()
    for k in range(5):
        reading(est, at=k + 0.3, flight=0.02, true_offset=0.0, served_after=0.01)
    for k in range(5, 8):
        reading(est, at=k + 0.6, flight=0.02, true_offset=-120.4, served_after=0.01)
    assert covers(est, -120.4)
