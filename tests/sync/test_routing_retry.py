from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.models import Routing
from app.sync.discover.routing import Target, route_order
from app.sync.retry import RetryPolicy
from tests.factories import make_order

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class TestRouting:
    targets = [
        Target("everything", Routing.all),
        Target("mugs", Routing.skus, frozenset({"SKU-MUG-001"})),
        Target("shirts", Routing.skus, frozenset({"SKU-TSHIRT-RED"})),
    ]

    def test_all_takes_every_order_and_skus_only_matching(self) -> None:
        order = make_order(items=[("SKU-MUG-001", 1, "1.00"), ("SKU-STICKER", 1, "1.00")])
        assert route_order(order, self.targets) == ["everything", "mugs"]

    def test_order_without_any_sold_sku_goes_only_to_all(self) -> None:
        assert route_order(make_order(items=[("SKU-HOODIE-L", 1, "1.00")]), self.targets) == ["everything"]


class TestRetryPolicy:
    def policy(self, **kw: object) -> RetryPolicy:
        return RetryPolicy(rng=random.Random(7), **kw)  # type: ignore[arg-type]

    def test_fatal_errors_park_at_once(self) -> None:
        assert self.policy().decide(retriable=False, attempts=1, now=NOW) is None

    def test_backoff_grows_and_is_capped(self) -> None:
        policy = self.policy(base_seconds=10, max_seconds=100, jitter=0.0, max_attempts=20)
        delays = [
            (policy.decide(retriable=True, attempts=n, now=NOW) - NOW).total_seconds()  # type: ignore[operator]
            for n in (1, 2, 3, 4, 5, 6)
        ]
        assert delays == [10, 20, 40, 80, 100, 100]

    def test_jitter_stays_within_bounds(self) -> None:
        policy = self.policy(base_seconds=100, jitter=0.5)
        for _ in range(50):
            at = policy.decide(retriable=True, attempts=1, now=NOW)
            assert at is not None and NOW + timedelta(seconds=50) <= at <= NOW + timedelta(seconds=100)

    def test_retry_after_is_honoured(self) -> None:
        at = self.policy(base_seconds=1, jitter=0.0).decide(
            retriable=True, attempts=1, now=NOW, retry_after=120
        )
        assert at == NOW + timedelta(seconds=120)

    def test_gives_up_after_max_attempts(self) -> None:
        policy = self.policy(max_attempts=3)
        assert policy.decide(retriable=True, attempts=2, now=NOW) is not None
        assert policy.decide(retriable=True, attempts=3, now=NOW) is None
