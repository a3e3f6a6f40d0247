"""The retry policy is a value: given an error and the attempts so far, when to try next."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    jitter: float = 0.5  # the delay is scaled by a factor in [1 - jitter, 1]
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def decide(
        self,
        *,
        retriable: bool,
        attempts: int,
        now: datetime,
        retry_after: float | None = None,
    ) -> datetime | None:
        """The time of the next attempt, or None to park the link as failed."""
        if not retriable or attempts >= self.max_attempts:
            return None
        exponent = max(attempts - 1, 0)
        delay = min(self.max_seconds, self.base_seconds * (2**exponent))
        delay *= 1.0 - self.jitter * self.rng.random()
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_seconds))
        return now + timedelta(seconds=delay)
