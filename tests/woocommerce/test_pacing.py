"""A store's pace: priority-aware slots, and concurrency and batch size learnt from the store's
answers, against a simulated store with a knee (its workers serve `slots` requests at once; the
rest wait, so each request takes longer and no more orders a second come out)."""

from __future__ import annotations

import asyncio

from app.woocommerce.pacing import HOLD_EPOCHS, Pace, Slots


def simulate(pace: Pace, *, slots: int, base: float, per_order: float, writes: int) -> list[int]:
    """Drive the pace with writes as a store with `slots` workers answers them when `pace.limit`
    requests are always in flight; returns the limit after each write."""
    limits = []
    for _ in range(writes):
        c, n = pace.limit, pace.batch
        service = (base + per_order * n) * max(1.0, c / slots)  # queued behind the busy workers
        pace.observe_write(n, service, c, pace.epoch_id)
        limits.append(pace.limit)
    return limits


class TestConcurrency:
    def test_a_small_host_is_never_pushed_past_its_knee(self) -> None:
        pace = Pace(ceiling=8, start=2, batch_max=50)
        limits = simulate(pace, slots=2, base=0.09, per_order=0.13, writes=400)
        assert max(limits) <= 3  # one probe step, never the 4 at which a request's time doubles
        assert limits[-1] == 2
        assert limits.count(3) < len(limits) * 0.15  # probes are brief, and cost a small host nothing

    def test_a_big_host_is_climbed_until_it_gives_no_more(self) -> None:
        pace = Pace(ceiling=16, start=2, batch_max=50)
        limits = simulate(pace, slots=8, base=0.05, per_order=0.04, writes=600)
        assert limits[-1] in (8, 9)
        assert next(i for i, c in enumerate(limits) if c >= 8) < 60  # climbed in a few steps
        assert max(limits) < 16  # probes stop short of the knee, where a request's time doubles

    def test_errors_halve_the_pace_and_hold_it(self) -> None:
        pace = Pace(ceiling=16, start=8, batch_max=50)
        pace.backoff("HTTP 429")
        assert (pace.limit, pace.batch) == (4, 25)
        simulate(pace, slots=16, base=0.05, per_order=0.04, writes=4 * (HOLD_EPOCHS - 1))
        assert pace.limit == 4  # held, not probed at once

    def test_a_fixed_pace_never_moves(self) -> None:
        pace = Pace(ceiling=3, start=1, batch_max=25, adaptive=False)
        simulate(pace, slots=8, base=0.05, per_order=0.04, writes=200)
        pace.backoff("HTTP 503")
        assert (pace.limit, pace.batch) == (3, 25)

    def test_a_write_sent_under_the_previous_setting_is_not_measured(self) -> None:
        pace = Pace(ceiling=8, start=2, batch_max=50)
        old = pace.epoch_id
        pace.backoff("timeout")
        before = pace.history[-1]
        for _ in range(20):
            pace.observe_write(50, 100.0, 1, old)  # awful, but from before the change
        assert pace.history[-1] == before


class TestBatches:
    def test_batches_grow_only_while_the_time_per_order_falls(self) -> None:
        # Request overhead dominates: bigger batches pay, up to the configured most.
        pace = Pace(ceiling=2, start=2, batch_max=100)
        pace.batch = 20
        simulate(pace, slots=2, base=2.0, per_order=0.01, writes=300)
        assert pace.batch == 100
        # Overhead negligible: no batch probe is kept.
        flat = Pace(ceiling=2, start=2, batch_max=100)
        flat.batch = 20
        simulate(flat, slots=2, base=0.0001, per_order=0.13, writes=300)
        assert flat.batch == 20

    def test_the_last_batches_are_split_evenly_over_the_slots(self) -> None:
        pace = Pace(ceiling=2, start=2, batch_max=50)
        assert pace.batch_for(300) == 50  # 6 batches, 3 per slot
        assert pace.batch_for(120) == 30  # not 50 + 50 + 20: 4 batches of 30, 2 per slot
        assert pace.batch_for(3) == 2
        assert pace.batch_for(0) == 50


class TestSlots:
    async def test_a_low_priority_request_waits_while_a_normal_one_waits(self) -> None:
        slots = Slots(1)
        order: list[str] = []
        await slots.acquire()

        async def take(name: str, low: bool) -> None:
            async with slots.held(low=low):
                order.append(name)
                await asyncio.sleep(0)

        note = asyncio.create_task(take("note", True))
        await asyncio.sleep(0)
        create = asyncio.create_task(take("create", False))
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(note, create)
        assert order == ["create", "note"]

    async def test_resizing_lets_waiters_in_and_cancelled_waiters_leave(self) -> None:
        slots = Slots(1)
        await slots.acquire()
        waiters = [asyncio.create_task(slots.acquire()) for _ in range(3)]
        await asyncio.sleep(0)
        waiters[0].cancel()
        await asyncio.sleep(0)
        slots.resize(3)
        await asyncio.sleep(0)
        assert [w.done() and not w.cancelled() for w in waiters] == [False, True, True]
        assert (slots.busy, slots.waiting) == (3, 0)
