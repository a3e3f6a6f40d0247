"""A store's clock offset from ours, read off the HTTP `Date` header of its replies.

One reading brackets the offset exactly. The store stamped its `Date` at some moment `t` of the
round trip (our clock: `sent <= t <= received`), and the header is that moment on the store's clock
truncated to the whole second `H` below it: `H <= t + offset < H + 1`. So every offset consistent
with the reading lies in `[H - received, H + 1 - sent]`: the round trip and the truncated second both
widen it, and nothing else is assumed (not that the store stamped the middle of the trip, nor the
middle of its second).

The estimate intersects the recent readings, newest first, each widened by how far the clocks may
have drifted apart since it was read; a reading that no longer overlaps the newer ones (a clock was
stepped) ends the intersection, so the newest consistent run wins. When the interval holds 0, the
store reads as on our clock: `seconds` is 0 and `bound` reaches the interval's far end (so 0 ± bound
still covers all of it, never less); otherwise `seconds` is the interval's middle and `bound` its
half-width. Either way `[seconds - bound, seconds + bound]` contains every offset consistent with
the readings it used: a floor or window widened by the bound loses nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = 32
# Our timestamps are read to the microsecond (truncated); a millisecond more covers that.
RESOLUTION = 0.001
# How fast two clocks may drift apart, in seconds per second: NTP slews at most 500 ppm, and an
# older reading is widened by twice that for its age.
DRIFT = 0.001


@dataclass(frozen=True)
class Skew:
    """The store's clock minus ours (`seconds`), give or take `bound` seconds, as measured at
    `measured_at` (our clock)."""

    seconds: float
    bound: float
    measured_at: datetime

    def to_store(self, ours: datetime) -> datetime:
        """A moment on our clock, on the store's."""
        return ours + timedelta(seconds=self.seconds)

    def to_ours(self, theirs: datetime) -> datetime:
        """A moment on the store's clock, on ours."""
        return theirs - timedelta(seconds=self.seconds)

    @property
    def margin(self) -> timedelta:
        return timedelta(seconds=self.bound)


@dataclass(frozen=True)
class Reading:
    """Every offset (store minus ours, seconds) consistent with one reply: `low` to `high`."""

    low: float
    high: float
    measured_at: datetime


def reading_of(server_date: datetime, *, sent: datetime, received: datetime) -> Reading:
    """The offsets consistent with a `Date` header of `server_date` on a reply to a request sent
    at `sent` and read at `received` (our clock, UTC)."""
    if received < sent:
        sent, received = received, sent
    low = (server_date - received).total_seconds() - RESOLUTION
    high = (server_date - sent).total_seconds() + 1.0 + RESOLUTION
    return Reading(low=low, high=high, measured_at=received)


def estimate(readings: list[Reading]) -> Skew | None:
    """The skew from readings (any order): see the module's description."""
    if not readings:
        return None
    newest_first = sorted(readings, key=lambda r: r.measured_at, reverse=True)
    latest = newest_first[0].measured_at
    low, high = newest_first[0].low, newest_first[0].high
    for reading in newest_first[1:]:
        drift = DRIFT * (latest - reading.measured_at).total_seconds()
        new_low, new_high = max(low, reading.low - drift), min(high, reading.high + drift)
        if new_low > new_high:
            break  # a clock was stepped between the two: the newer readings stand
        low, high = new_low, new_high
    if low <= 0.0 <= high:
        return Skew(seconds=0.0, bound=max(-low, high), measured_at=latest)
    return Skew(seconds=(low + high) / 2, bound=(high - low) / 2, measured_at=latest)


class SkewEstimate:
    def __init__(self) -> None:
        self._readings: deque[Reading] = deque(maxlen=WINDOW)

    def add(self, server_date: datetime, *, sent: datetime, received: datetime) -> None:
        """`server_date` from a reply's Date header; `sent`/`received` on our clock (UTC)."""
        self._readings.append(reading_of(server_date, sent=sent, received=received))

    def skew(self, *, since: datetime | None = None) -> Skew | None:
        """The estimate from the readings taken since `since` (all if None), or None if there is
        none."""
        return estimate([r for r in self._readings if since is None or r.measured_at >= since])

    @property
    def seconds(self) -> float | None:
        """The store's clock minus ours, or None before any reply carried a Date."""
        skew = self.skew()
        return None if skew is None else skew.seconds
