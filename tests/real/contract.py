"""A real store dressed as the fake one, for the contract tests' `real` side
(tests/testing/test_contract.py): the few parts of FakeStore's interface the recorded cases use,
answered by a real WooCommerce 7.8.2 store of the harness (main for the posts recordings, sub1
for the HPOS ones; both on WordPress 6.1.9, like the stores the recordings came from).

What cannot be the same on a real store is mapped rather than compared: ids (each store numbers
its own orders), dates (the recordings' clock read November 2026 at other moments), the site
title and admin address in email subjects, and the base URL. Its clock cannot be moved either:
`tick` waits for the next whole second instead."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from app.testing import DEMO_CATALOG
from tests.real.harness import StoreInfo, session_stores

API = "/wp-json/wc/v3"
# phase1-wp.php installs every kit store with this admin address.
KIT_ADMIN_EMAIL = "admin@example.test"
# The recordings' webhook cases create webhooks with this name; they are removed after each case.
RECORDER_WEBHOOK = "wcsync recorder test"
STORE_FOR_STORAGE = {"posts": "main", "hpos": "sub1"}
_titles: dict[str, str] = {}


def real_store_info(storage: str) -> StoreInfo:
    wanted = STORE_FOR_STORAGE[storage]
    (info,) = [s for s in session_stores() if s.name == wanted]
    return info


class _Orders(Mapping[int, dict[str, Any]]):
    """`store.orders` read from the real store: one order by id (trashed ones too), or how many
    orders it lists. Iterating every order of a shared store means nothing, so it is refused."""

    def __init__(self, store: RealContractStore) -> None:
        self.store = store

    def __getitem__(self, order_id: int) -> dict[str, Any]:
        response = self.store.http.get(f"{API}/orders/{order_id}")
        if response.status_code == 404:
            raise KeyError(order_id)
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        return order

    def __len__(self) -> int:
        response = self.store.http.get(f"{API}/orders", params={"per_page": "1", "_fields": "id"})
        response.raise_for_status()
        return int(response.headers["x-wp-total"])

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError("a real store is shared: list the orders a case made, not all of them")


class _State:
    def __init__(self, store: RealContractStore) -> None:
        self.store = store

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.store.http.post(f"{API}/orders", json=body)
        response.raise_for_status()
        order: dict[str, Any] = response.json()
        return order


class RealContractStore:
    """The FakeStore attributes test_contract.py uses, on a real store. Calls are synchronous:
    a case against a real store has nothing else to run meanwhile."""

    real = True

    def __init__(self, info: StoreInfo, storage: str) -> None:
        self.info = info
        self.name = info.name
        self.storage = storage
        self.base_url = info.base_url
        self.consumer_key = info.consumer_key
        self.consumer_secret = info.consumer_secret
        # The last moment a write was seen or the clock read (see tick).
        self.last_mark = 0.0
        self.http = httpx.Client(
            base_url=info.base_url,
            auth=(info.consumer_key, info.consumer_secret),
            timeout=120,
            event_hooks={"response": [self._saw]},
        )
        self.orders = _Orders(self)
        self.state = _State(self)
        self.mail_log = info.site.parent.parent / "logs" / f"{info.name}-mail.log"
        if info.name not in _titles:
            self._prepare_catalog()
            _titles[info.name] = str(self.http.get("/wp-json/", params={"_fields": "name"}).json()["name"])
        self.title = _titles[info.name]

    def _saw(self, response: httpx.Response) -> None:
        if response.request.method != "GET":
            self.last_mark = time.time()

    def _prepare_catalog(self) -> None:
        """Give the five SKUs the names and prices of the recorded stores' catalogue (the fake's
        DEMO_CATALOG): totals, line names and stock notes are compared with the recordings."""
        updates = [
            {
                "id": self.info.products[str(p["sku"])],
                "name": p["name"],
                "regular_price": p["price"],
                "manage_stock": True,
                "stock_quantity": p["stock"],
            }
            for p in DEMO_CATALOG
            if p["sku"] in self.info.products  # the kit's stores have the five simple products
        ]
        response = self.http.post(f"{API}/products/batch", json={"update": updates})
        response.raise_for_status()

    # --- the FakeStore interface ---------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        return _Watched(self)

    def product_id(self, sku: str) -> int:
        return self.info.products[sku]

    def clock(self) -> datetime:
        # The stores run on this machine, with its clock.
        self.last_mark = time.time()
        return datetime.now(UTC)

    def tick(self, seconds: float) -> None:
        """The next write lands at least `seconds` whole seconds after the last write or clock
        reading: wait for that second to begin (not at all when they are old enough)."""
        wait = math.floor(self.last_mark) + seconds - time.time()
        if wait > 0:
            time.sleep(wait + 0.02)

    def set_stock(self, sku: str, quantity: int) -> None:
        response = self.http.put(f"{API}/products/{self.product_id(sku)}", json={"stock_quantity": quantity})
        response.raise_for_status()

    @property
    def emails(self) -> list[dict[str, str]]:
        """The mails the store sent, from the kit's mail log (time, to=, subject=)."""
        if not self.mail_log.exists():
            return []
        found = []
        for line in self.mail_log.read_text().splitlines():
            fields = dict(part.split("=", 1) for part in line.split("\t")[1:] if "=" in part)
            found.append({"to": fields.get("to", ""), "subject": fields.get("subject", "")})
        return found

    def text_map(self, recorded_name: str, recorded_base: str) -> dict[str, str]:
        """Recorded strings that stand for this store's own: base URL, site title, admin address."""
        return {
            recorded_base: self.base_url,
            f"WC rig {recorded_name}": self.title,
            f"admin@{recorded_name}.example.test": KIT_ADMIN_EMAIL,
        }

    async def aclose(self, *, webhooks: bool = False) -> None:
        if webhooks:
            for hook in self.http.get(f"{API}/webhooks", params={"per_page": "100"}).json():
                if hook.get("name") == RECORDER_WEBHOOK:
                    self.http.delete(f"{API}/webhooks/{hook['id']}", params={"force": "true"})
        self.http.close()


class _Watched(httpx.AsyncHTTPTransport):
    """The case's own requests go through this transport: their writes count for tick()."""

    def __init__(self, store: RealContractStore) -> None:
        super().__init__()
        self.store = store

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method != "GET":
            self.store.last_mark = time.time()
        return response
