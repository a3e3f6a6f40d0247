"""How hard to drive one store: requests at once and orders per batch, adjusted from the store's
own answers.

A WooCommerce store has a knee: past the number of requests its PHP workers and CPUs serve at once,
more requests only wait, and each one takes longer (on the 2-core test host, 4 clients double a
request's time for no more orders a second: docs/woocommerce-performance.md). So the pace
starts low and probes:

- **Concurrency** rises by half again (at least one) while the orders written per second rise
  with it (by at least `GAIN`) and each request's time per order does not (within `QUEUEING`: a
  request that waits at the store means its workers are all busy), and falls back to the last
  good value when they do not, or when a request's time per order reaches twice the best seen
  (the knee). After a failed probe it holds for `HOLD_EPOCHS` (doubled while probes fail) before
  trying again. A small host therefore stays at its knee's foot and a big one is climbed until
  it stops giving more.
- **Batch size** rises (×1.5, at most the configured size) while the time per order written
  falls by at least `BATCH_GAIN`, and never past what the store writes within a quarter of the
  request timeout.
- **Errors** (429, 5xx, timeouts) halve both at once and hold.
- **Small writes** (an epoch whose writes average under half a batch: orders one at a time
  between busy passes) are not judged: a request's own cost spread over a few orders would read
  as a knee. The pace found in a busy pass is kept for the next.

The slots are priority-aware: a low-priority request (an origin note) takes a free slot only
when no normal request is waiting for one, so notes never delay a create.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

GAIN = 0.10  # a concurrency step must bring this much more throughput to be kept
BATCH_GAIN = 0.03  # a bigger batch must cut the time per order by this much
KNEE = 2.0  # a request's time per order this many times the best seen: past the knee
QUEUEING = 1.15  # a probe that makes each request this much slower is queueing at the store
HOLD_EPOCHS = 6  # epochs to stay put after a failed probe or an error (doubled while probes fail)
MAX_HOLD_EPOCHS = 48
WARM_UP_EPOCHS = 0  # epochs held at the start before the first (its baseline is always measured)
FREE = 1.05  # a probe that left each request's time within this: the store had room to spare
MIN_EPOCH = 3  # writes measured before a decision
SMALL_WRITES = 0.5  # an epoch whose writes average less than this share of a batch is not judged


class Slots:
    """A resizable semaphore with two priorities."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self._normal: deque[asyncio.Future[None]] = deque()
        self._low: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._normal) + len(self._low)

    def resize(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._wake()

    async def acquire(self, *, low: bool = False) -> None:
        if self.busy < self.limit and not self._normal and (not low or not self._low):
            self.busy += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._low if low else self._normal
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted as we were cancelled: give it back
            else:
                queue.remove(future)
            raise

    def release(self) -> None:
        self.busy -= 1
        self._wake()

    def _wake(self) -> None:
        while self.busy < self.limit and (self._normal or self._low):
            queue = self._normal if self._normal else self._low
            future = queue.popleft()
            if future.done():
                continue
            self.busy += 1
            future.set_result(None)

    @asynccontextmanager
    async def held(self, *, low: bool = False) -> AsyncIterator[None]:
        await self.acquire(low=low)
        try:
            yield
        finally:
            self.release()


@dataclass
class _Epoch:
    orders: int = 0
    seconds: float = 0.0  # summed service time of the writes
    writes: int = 0
    in_flight: float = 0.0  # summed requests at the store when each write started

    def add(self, orders: int, seconds: float, in_flight: int) -> None:
        self.orders += orders
        self.seconds += seconds
        self.writes += 1
        self.in_flight += max(1, in_flight)

    def mean_in_flight(self) -> float:
        return self.in_flight / self.writes if self.writes else 0.0

    def rate(self) -> float:
        """Orders a second the store gave: each write's orders over its time, times the writes
        it served at once (with more in flight than its workers, each write takes as much
        longer, so a saturated store's rate stays flat)."""
        if not self.writes or self.seconds <= 0:
            return 0.0
        return self.orders / self.seconds * self.mean_in_flight()

    def per_order(self) -> float:
        return self.seconds / self.orders if self.orders else math.inf


@dataclass
class Pace:
    """One store's pace (see the module's description). `observe_write` is told every batch
    write's orders and service time; `backoff` every retriable failure."""

    ceiling: int
    start: int = 2
    batch_max: int = 50
    timeout: float = 60.0
    adaptive: bool = True
    limit: int = field(init=False)
    batch: int = field(init=False)
    slots: Slots = field(init=False)
    # Batches claimed but not yet answered: the slots plus one, so that one batch is ready
    # whenever a slot frees (resized with the slots).
    tickets: Slots = field(init=False)
    # How the pace moved, for logs and the benchmarks: (monotonic time, limit, batch, why).
    history: list[tuple[float, int, int, str]] = field(default_factory=list)
    _epoch: _Epoch = field(default_factory=_Epoch)
    _previous: tuple[int, int, float, float] | None = None  # limit, batch, rate, per-order before a probe
    _probing: str | None = None  # "limit" or "batch"
    _hold: int = WARM_UP_EPOCHS
    _hold_after_failure: int = HOLD_EPOCHS
    _best_per_order: float = math.inf
    # The best rate measured at each number of requests at once (orders a second).
    _rate_at: dict[int, float] = field(default_factory=dict)
    _next_probe: str = "limit"
    # The last concurrency probe paid without slowing any request: the host has room, so the
    # next step doubles (a big host is reached in a few steps; a small one fails its first
    # step of one, as each request then waits at the store).
    _room: bool = False
    # Bumped at every change: a write that started under another setting measures that one.
    epoch_id: int = 0

    def __post_init__(self) -> None:
        self.ceiling = max(1, self.ceiling)
        self.limit = min(max(1, self.start), self.ceiling) if self.adaptive else self.ceiling
        self.batch = max(1, self.batch_max)
        self.slots = Slots(self.limit)
        self.tickets = Slots(self.limit + 1)
        self._note("start")

    def _note(self, why: str) -> None:
        self.history.append((time.monotonic(), self.limit, self.batch, why))
        del self.history[:-200]

    def _set(self, limit: int, batch: int, why: str) -> None:
        limit = min(max(1, limit), self.ceiling)
        batch = min(max(1, batch), self.batch_max)
        if (limit, batch) != (self.limit, self.batch):
            self.limit, self.batch = limit, batch
            self.slots.resize(limit)
            self.tickets.resize(limit + 1)
            self._note(why)
        self._new_epoch()

    def _new_epoch(self) -> None:
        self._epoch = _Epoch()
        self.epoch_id += 1

    def in_flight(self) -> int:
        return self.slots.busy

    def observe_write(
        self,
        orders: int,
        seconds: float,
        in_flight: int,
        epoch_id: int | None = None,
    ) -> None:
        """A batch write of `orders` orders took `seconds` of service, with `in_flight`
        requests at the store (itself included) when it started, in epoch `epoch_id`."""
        if not self.adaptive or orders <= 0 or seconds <= 0:
            return
        if epoch_id is not None and epoch_id != self.epoch_id:
            return  # sent under the previous setting
        epoch = self._epoch
        epoch.add(orders, seconds, in_flight)
        if epoch.writes < max(MIN_EPOCH, self.limit + 1):
            return
        if epoch.orders < epoch.writes * self.batch * SMALL_WRITES:
            # Small writes (orders one at a time between busy passes, a pass's last round split
            # over the slots) pay each request's own cost for a few orders: their time per order
            # says nothing of a queue at the store, and judged against full batches they would
            # read as a knee and walk the pace down. Not judged; the next busy pass judges it.
            self._new_epoch()
            return
        if self._probing == "limit" and self._previous is not None:
            # The probe is exercised once wcsync kept at least half the added requests at the
            # store on average (a slot is always briefly free while the next batch is claimed,
            # so the full limit is never the mean). If not yet: measure on, for a while, then
            # count it as giving nothing.
            before = self._previous[0]
            if epoch.mean_in_flight() < before + (self.limit - before) / 2 and epoch.writes < 4 * self.limit:
                return
        per_order = epoch.per_order()
        rate = epoch.rate()
        self._best_per_order = min(self._best_per_order, per_order)
        self._rate_at[self.limit] = max(self._rate_at.get(self.limit, 0.0), rate)
        if per_order >= KNEE * self._best_per_order and self.limit > 1:
            # Past the knee: each request takes twice as long for the same orders.
            back = self._previous[0] if self._previous and self._probing == "limit" else self.limit - 1
            self._room = False
            self._probing, self._previous, self._hold = None, None, HOLD_EPOCHS
            self._set(back, self.batch, "knee: time per order doubled")
            return
        if self._probing is not None and self._previous is not None:
            limit, batch, old_rate, old_per_order = self._previous
            # Against the best the previous setting ever gave, not its last epoch only: one
            # slow epoch there must not make a probe look like a gain.
            baseline = max(old_rate, self._rate_at.get(limit, 0.0))
            # More requests at once must bring more orders a second without making each one
            # wait longer at the store (a queue there means its workers are all busy already).
            kept = (
                rate >= baseline * (1 + GAIN) and per_order <= old_per_order * QUEUEING
                if self._probing == "limit"
                else per_order <= old_per_order * (1 - BATCH_GAIN)
            )
            what = self._probing
            self._probing, self._previous = None, None
            if not kept:
                self._room = False
                self._hold = self._hold_after_failure
                self._hold_after_failure = min(MAX_HOLD_EPOCHS, 2 * self._hold_after_failure)
                self._set(limit, batch, f"{what} probe gave nothing: back")
                return
            self._new_epoch()
            self._hold = 0
            self._hold_after_failure = HOLD_EPOCHS
            # It paid: the next probe may go on in the same direction at once.
            self._next_probe = what
            self._room = what == "limit" and per_order <= old_per_order * FREE
        elif self._hold > 0:
            self._hold -= 1
            self._new_epoch()
            return
        self._probe(rate, per_order)

    def _probe(self, rate: float, per_order: float) -> None:
        order = ("limit", "batch") if self._next_probe == "limit" else ("batch", "limit")
        for what in order:
            if what == "limit" and self.limit < self.ceiling:
                self._previous = (self.limit, self.batch, rate, per_order)
                self._probing = "limit"
                self._next_probe = "batch"
                # Half again as many (at least one more), or twice as many while the store
                # showed room to spare: a big host is climbed in a few steps.
                step = self.limit if self._room else max(1, self.limit // 2)
                self._set(self.limit + step, self.batch, "probe: more requests at once")
                return
            # Bigger batches only while a batch stays well inside the request timeout.
            bigger = min(self.batch_max, math.ceil(self.batch * 1.5))
            if what == "batch" and bigger > self.batch and bigger * per_order <= self.timeout / 4:
                self._previous = (self.limit, self.batch, rate, per_order)
                self._probing = "batch"
                self._next_probe = "limit"
                self._set(self.limit, bigger, "probe: bigger batches")
                return
        self._hold = HOLD_EPOCHS
        self._new_epoch()

    def backoff(self, why: str) -> None:
        """A 429, a 5xx or a timeout: half the requests at once and half the batch, then hold."""
        if not self.adaptive:
            return
        self._room = False
        self._probing, self._previous, self._hold = None, None, HOLD_EPOCHS
        self._set(max(1, self.limit // 2), max(1, self.batch // 2), f"backoff: {why}")

    def batch_for(self, due: int) -> int:
        """Orders for the next batch when `due` wait: at most the pace's batch, and split so
        that every slot gets the same number of batches (a last small batch would leave the
        other slots idle while it runs)."""
        if due <= 0:
            return self.batch
        # Split over the slots known to be there: during a probe for more, the store may have
        # no more, and a last round split for the probe would leave one of them idle.
        slots = self._previous[0] if self._probing == "limit" and self._previous else self.limit
        batches = slots * math.ceil(due / (slots * self.batch))
        return max(1, min(self.batch, math.ceil(due / batches)))
