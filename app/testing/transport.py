"""An in-process httpx transport that fails like a network does."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from app.testing.store import FakeStore


class ConnectionDropped(Exception):
    """Raised by the fake after it started a response, to cut the connection mid-body."""


class FakeStoreTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` plus what a socket would add.

    * The client's read timeout is enforced (ASGITransport ignores timeouts), raising
      ``httpx.ReadTimeout``; the store keeps working on the request, as PHP does after a
      client gave up, so a timed-out create still creates.
    * A dropped connection surfaces as ``httpx.RemoteProtocolError``.
    """

    def __init__(self, store: FakeStore) -> None:
        super().__init__(app=store.app, client=("127.0.0.1", 50_000))
        self._store = store

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        task = asyncio.ensure_future(super().handle_async_request(request))
        self._store.track_task(task)
        try:
            if read_timeout is None:
                return await asyncio.shield(task)
            return await asyncio.wait_for(asyncio.shield(task), read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("Timed out waiting for the fake store", request=request) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from None
