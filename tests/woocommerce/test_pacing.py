"""A store's pace: priority-aware slots, and concurrency and batch size learnt from the store's
answers, against a simulated store with a knee (its workers serve `slots` requests at once; the
rest wait, so each request takes longer and no more orders a second come out)."""

from __future__ import annotations

import asyncio

from app.woocommerce.pacing import HOLD_EPOCHS, Pace, Slots


def simulate(pace: Pace, *, slots: float, base: float, per_order: float, writes: int) -> list[int]:
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

    def test_a_host_with_room_is_climbed_by_doubling(self) -> None:
        # The first step is one more (a small host's knee may be two steps away); once a step
        # left every request's time as it was, the next doubles, up to the ceiling.
        pace = Pace(ceiling=8, start=2, batch_max=50)
        limits = simulate(pace, slots=8, base=0.06, per_order=0.04, writes=60)
        steps = [c for i, c in enumerate(limits) if i == 0 or c != limits[i - 1]]
        assert steps == [2, 3, 6, 8]
        assert limits.index(8) < 20

    def test_a_probe_that_makes_each_request_wait_is_taken_back(self) -> None:
        # More orders a second would come out (the rate rises with three in flight), but each
        # request waits at the store: its workers are all busy, so the probe is not kept.
        pace = Pace(ceiling=8, start=2, batch_max=50)
        limits = simulate(pace, slots=2.2, base=0.09, per_order=0.13, writes=40)
        assert max(limits) == 3
        assert limits[-1] == 2
        assert any(why == "limit probe gave nothing: back" for *_, why in pace.history)

    def test_a_half_filled_probe_on_a_full_host_is_not_kept(self) -> None:
        # wcsync kept 2.75 requests at a store of two workers on average, each waited a fifth
        # longer, and the estimate of orders a second rose by 15 % (noise on a busy machine).
        # A request that waits means the workers are all busy: not room, taken back.
        pace = Pace(ceiling=8, start=2, batch_max=50)
        while pace.limit == 2:
            pace.observe_write(50, 6.6, 2, pace.epoch_id)
        assert pace.limit == 3
        for i in range(8):
            pace.observe_write(50, 6.6 * 1.2, 2 if i % 4 == 3 else 3, pace.epoch_id)
        assert pace.limit == 2
        assert pace.history[-1][3] == "limit probe gave nothing: back"

    def test_the_knee_drops_the_pace_at_once(self) -> None:
        pace = Pace(ceiling=8, start=4, batch_max=50)
        for _ in range(5):
            pace.observe_write(50, 2.0, 4, pace.epoch_id)  # 40 ms an order: the best seen
        limit = pace.limit
        for _ in range(limit + 1):
            pace.observe_write(50, 4.5, limit, pace.epoch_id)  # each request takes over twice as long
        assert pace.limit < limit  # back to the last good setting (or one less)
        assert pace.history[-1][3] == "knee: time per order doubled"

    def test_a_trickle_of_small_writes_keeps_the_pace_found(self) -> None:
        # Between busy passes, orders come one at a time. A one-order request pays the
        # request's own cost for one order (60 + 40 ms on a big host, against 41 ms an order in
        # a full batch): more time per order, but no queue at the store. The pace found for
        # full batches must be kept for the next busy pass, not walked down as if at a knee.
        pace = Pace(ceiling=8, start=2, batch_max=50)
        simulate(pace, slots=8, base=0.06, per_order=0.04, writes=60)
        assert pace.limit == 8
        for _ in range(300):
            pace.observe_write(1, 0.06 + 0.04, 1, pace.epoch_id)
        assert pace.limit == 8
        assert all(not why.startswith("knee") for *_, why in pace.history)

    def test_a_probe_wcsync_never_filled_counts_as_giving_nothing(self) -> None:
        # wcsync kept fewer requests at the store than the probe allowed (its own work between
        # batches): after a while the probe is judged on what it gave, and taken back.
        pace = Pace(ceiling=8, start=2, batch_max=50)
        while pace.limit == 2:
            pace.observe_write(50, 2.0, 2, pace.epoch_id)
        assert pace.limit == 3
        for _ in range(4 * 3 + 1):
            pace.observe_write(50, 2.0, 1, pace.epoch_id)  # one in flight, whatever the limit
        assert pace.limit == 2
        assert pace.history[-1][3] == "limit probe gave nothing: back"

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
        moves = [why for _, _, _, why in flat.history[1:]]
        assert moves  # it did probe
        # Every bigger batch tried was taken back at its next move (the last may still be on trial).
        assert all(
            nxt == "batch probe gave nothing: back"
            for why, nxt in zip(moves, moves[1:], strict=False)
            if why == "probe: bigger batches"
        )
        assert {batch for _, _, batch, _ in flat.history[1:]} <= {20, 30}

    def test_the_last_batches_are_split_evenly_over_the_slots(self) -> None:
        pace = Pace(ceiling=2, start=2, batch_max=50)
        assert pace.batch_for(300) == 50  # 6 batches, 3 per slot
        assert pace.batch_for(120) == 30  # not 50 + 50 + 20: 4 batches of 30, 2 per slot
        assert pace.batch_for(3) == 2
        assert pace.batch_for(0) == 50

    def test_a_probe_for_more_requests_does_not_split_the_last_batches_for_it(self) -> None:
        # A probe from 2 to 3 at once may find a store of two workers: the last 120 orders stay
        # split for the 2 proven (4 x 30), not for 3 (3 x 40, the third waiting alone at the end).
        pace = Pace(ceiling=8, start=2, batch_max=50)
        while pace.limit == 2:
            pace.observe_write(50, 6.6, 2, pace.epoch_id)
        assert pace.limit == 3
        assert pace.batch_for(120) == 30


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
