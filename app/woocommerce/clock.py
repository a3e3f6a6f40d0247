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
from datetime import datetime

WINDOW = 32


class SkewEstimate:
    def __init__(self) -> None:
        self._readings: deque[tuple[float, float]] = deque(maxlen=WINDOW)

    def add(self, server_date: datetime, *, sent: datetime, received: datetime) -> None:
        """`server_date` from a reply's Date header; `sent`/`received` on our clock (UTC)."""
        flight = max((received - sent).total_seconds(), 0.0)
        middle = sent + (received - sent) / 2
        offset = (server_date - middle).total_seconds() + 0.5
        self._readings.append((flight / 2 + 0.5, offset))

    @property
    def seconds(self) -> float | None:
        """The store's clock minus ours, or None before any reply carried a Date."""
        if not self._readings:
            return None
        bound, offset = min(self._readings)
        return 0.0 if abs(offset) <= bound else offset
