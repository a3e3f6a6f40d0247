"""The clock-skew estimate: whole-second Date headers and slow replies must not read as skew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
