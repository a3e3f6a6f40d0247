"""Waiting in tests: on a condition, with a deadline generous enough for a loaded machine (load
10-20 on two cores is normal where this suite runs), and a failure that names what was awaited.
Nothing here times the machine: a test that passes slowly passes (timings are `bench/`'s job)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Seconds a test waits for something that takes well under a second on a quiet machine.
PATIENCE = float(os.environ.get("WCSYNC_TEST_PATIENCE", "180"))


async def until(
    check: Callable[[], T | Awaitable[T]], what: str, *, timeout: float = PATIENCE, interval: float = 0.05
) -> T:
    """Poll `check` (sync or async) until it returns something truthy; return it. Fails naming
    `what` after `timeout` seconds of clock."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last seen: {value!r}")
        await asyncio.sleep(interval)


def until_sync(check: Callable[[], T], what: str, *, timeout: float = PATIENCE, interval: float = 0.05) -> T:
    """`until` for code outside an event loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last seen: {value!r}")
        time.sleep(interval)


async def within(awaitable: Awaitable[T], what: str, *, timeout: float = PATIENCE) -> T:
    """Await with a deadline; on expiry fail naming `what` (not a bare TimeoutError)."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise AssertionError(f"waited {timeout:.0f} s for {what}") from None
