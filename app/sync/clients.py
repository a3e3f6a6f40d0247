"""One configured WooCommerce client per store, created on first use and closed at shutdown."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Callable

import httpx

from app.models import Store
from app.woocommerce.auth import AuthMode
from app.woocommerce.client import WooCommerceClient

TransportFactory = Callable[[Store], httpx.AsyncBaseTransport | None]


class ClientRegistry:
    def __init__(
        self,
        *,
        timeout: float,
        max_concurrency: int,
        user_agent: str = "wcsync/0.1",
        transport_factory: TransportFactory | None = None,
        start_concurrency: int | None = None,
        batch_size: int = 100,
        adaptive: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._timeout = timeout
        self._verify = verify
        self._max_concurrency = max_concurrency
        self._start_concurrency = start_concurrency
        self._batch_size = batch_size
        self._adaptive = adaptive
        self._user_agent = user_agent
        self._transport_factory = transport_factory
        self._clients: dict[str, tuple[str, WooCommerceClient]] = {}
        self._stale: list[WooCommerceClient] = []
        self._lock = asyncio.Lock()

    @staticmethod
    def _fingerprint(store: Store) -> str:
        raw = "\x00".join(
            [
                store.base_url,
                store.consumer_key,
                store.consumer_secret,
                store.auth_mode,
                str(store.max_concurrency),
            ]
        )
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, store: Store) -> WooCommerceClient:
        """The client for this store's current settings; a changed store gets a new client."""
        fingerprint = self._fingerprint(store)
        entry = self._clients.get(store.name)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        if entry is not None:
            self._stale.append(entry[1])
        transport = self._transport_factory(store) if self._transport_factory else None
        client = WooCommerceClient(
            store.base_url,
            store.consumer_key,
            store.consumer_secret,
            auth_mode=store.auth_mode.value if hasattr(store.auth_mode, "value") else store.auth_mode,  # type: ignore[arg-type]
            timeout=self._timeout,
            max_concurrency=store.max_concurrency or self._max_concurrency,
            user_agent=self._user_agent,
            transport=transport,
            store_name=store.name,
            start_concurrency=self._start_concurrency,
            batch_size=self._batch_size,
            adaptive=self._adaptive,
            verify=self._verify,
        )
        self._clients[store.name] = (fingerprint, client)
        return client

    def one_off(self, store: Store, *, auth_mode: AuthMode) -> WooCommerceClient:
        """A client for the store with another auth mode, not kept: the caller closes it. The
        store check tries query-string credentials with it where Basic auth was refused."""
        transport = self._transport_factory(store) if self._transport_factory else None
        return WooCommerceClient(
            store.base_url,
            store.consumer_key,
            store.consumer_secret,
            auth_mode=auth_mode,
            timeout=self._timeout,
            max_concurrency=1,
            user_agent=self._user_agent,
            transport=transport,
            store_name=store.name,
            verify=self._verify,
        )

    def pace_history(self, name: str) -> list[tuple[float, int, int, str]]:
        """How a store's pace moved (requests at once, batch size, why), for the benchmarks."""
        entry = self._clients.get(name)
        return list(entry[1].pace.history) if entry else []

    async def aclose(self) -> None:
        clients = [c for _, c in self._clients.values()] + self._stale
        self._clients.clear()
        self._stale.clear()
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
