"""A fake WooCommerce store (7.8.2 by default, 10.6.2 with ``Knobs(wc_version="10.6")``) for
wcsync's tests, demo and benchmarks.

It answers ``/wp-json/wc/v3`` the way the recorded stores in ``tests/woocommerce/recorded``
did (the 7.8.2 exchanges are replayed by ``tests/testing/test_contract.py``; the ``real-*``
recordings of 7.8.2 and 10.6.2 by the other modules of ``tests/testing``), keeps its state in
memory, and can inject latency, queueing and faults. docs/woocommerce-behaviour.md says what
WooCommerce does and which recording shows it.

In-process::

    store = FakeStore("sub1", storage="hpos", catalog=DEMO_CATALOG)
    async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url,
                                 auth=(store.consumer_key, store.consumer_secret)) as client:
        ...
    store.place_order([("SKU-MUG-001", 2)])     # a storefront checkout
    store.fail_next("timeout_after_create")      # the next create succeeds, then hangs
    await store.aclose()                         # cancel requests left hanging

Over loopback HTTP: ``async with serve_in_background(store) as url`` (app.testing.server), or
``python -m app.testing --name main --name sub1 --port 8101 --catalog demo`` with the control API
under ``/__fake__/``. If you run uvicorn yourself, pass ``date_header=False``: the store sends
its own ``Date`` (its clock includes ``clock_skew_seconds``) and uvicorn would add a second one.
"""

from app.testing.auth import oauth_base_string, oauth_signature, sign_oauth_query
from app.testing.catalog import DEMO_CATALOG, SIMPLE_CATALOG, CatalogProduct, CatalogVariation
from app.testing.knobs import FAULT_KINDS, WC_VERSIONS, Knobs, Stats
from app.testing.phpcompat import php_json_dumps
from app.testing.store import FakeStore
from app.testing.webhooks import sign_webhook_body

__all__ = [
    "DEMO_CATALOG",
    "FAULT_KINDS",
    "SIMPLE_CATALOG",
    "CatalogProduct",
    "CatalogVariation",
    "FakeStore",
    "Knobs",
    "Stats",
    "WC_VERSIONS",
    "oauth_base_string",
    "oauth_signature",
    "php_json_dumps",
    "sign_oauth_query",
    "sign_webhook_body",
]
