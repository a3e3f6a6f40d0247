"""A store's clock offset from ours, read off the HTTP `Date` header of its replies.

One reading is poor: the header has whole seconds (so it trails the store's clock by up to a
second), and the reply's time in flight, which a loaded event loop stretches, counts as skew
too. So each reading is taken against the middle of its request's round trip, with half a
second added for the truncated header, and carries its own error bound (half the round trip
plus half a second). The estimate is the reading with the smallest bound among the recent ones,
and an offset within its own bound is indistinguishable from none: it reads as 0.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = 32


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


class SkewEstimate:
    def __init__(self) -> None:
        # (bound, offset, measured at)
        self._readings: deque[tuple[float, float, datetime]] = deque(maxlen=WINDOW)

    def add(self, server_date: datetime, *, sent: datetime, received: datetime) -> None:
        """`server_date` from a reply's Date header; `sent`/`received` on our clock (UTC)."""
        flight = max((received - sent).total_seconds(), 0.0)
        middle = sent + (received - sent) / 2
        offset = (server_date - middle).total_seconds() + 0.5
        self._readings.append((flight / 2 + 0.5, offset, received))

    def skew(self, *, since: datetime | None = None) -> Skew | None:
        """The tightest reading (among those taken since `since`), or None if there is none."""
        readings = [r for r in self._readings if since is None or r[2] >= since]
        if not readings:
            return None
        bound, offset, _ = min(readings, key=lambda r: r[0])
        latest = max(r[2] for r in readings)
        return Skew(seconds=0.0 if abs(offset) <= bound else offset, bound=bound, measured_at=latest)

    @property
    def seconds(self) -> float | None:
        """The store's clock minus ours, or None before any reply carried a Date."""
        skew = self.skew()
        return None if skew is None else skew.seconds
