"""The knobs added for the real-store behaviours: from the command line and the control API."""

from __future__ import annotations

import httpx
import pytest

from app.testing import FakeStore, Knobs
from app.testing.server import build_parser
from tests.testing.conftest import API, make_store


def test_cli_flags_for_version_taxes_and_listing_edits() -> None:
    args = build_parser().parse_args(
        ["--name", "sub2", "--wc-version", "10.6", "--tax-rate-percent", "20", "--edit-while-listing", "1"]
    )
    assert (args.wc_version, args.tax_rate_percent, args.edit_while_listing) == ("10.6", 20.0, 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--name", "x", "--wc-version", "9.0"])


async def test_control_api_switches_the_version_and_refuses_an_unknown_one() -> None:
    store: FakeStore = make_store()
    async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as control:
        switched = await control.put(
            "/__fake__/knobs", json={"wc_version": "10.6", "prices_include_tax": True}
        )
        refused = await control.put("/__fake__/knobs", json={"wc_version": "11.0"})
    assert switched.status_code == 200 and switched.json()["wc_version"] == "10.6"
    assert refused.status_code == 400
    async with store.client() as client:
        order = (await client.post(f"{API}/orders", json={"line_items": [{"sku": "SKU-MUG-001"}]})).json()
    assert order["version"] == "10.6.2" and order["prices_include_tax"] is True
    assert order["line_items"][0]["global_unique_id"] == ""
    await store.aclose()


def test_defaults_are_7_8_without_taxes_or_edits() -> None:
    knobs = Knobs()
    assert (knobs.wc_version, knobs.tax_rate_percent, knobs.prices_include_tax) == ("7.8", 0.0, False)
    assert (knobs.edit_while_listing, knobs.shuffle_tied_orders) == (0, False)


async def test_strip_authorization_drops_basic_auth_but_not_query_credentials() -> None:
    store: FakeStore = make_store()
    async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as control:
        assert (await control.put("/__fake__/knobs", json={"strip_authorization": True})).status_code == 200
        keys = {"consumer_key": store.consumer_key, "consumer_secret": store.consumer_secret}
        by_query = await control.get(f"{API}/orders", params=keys)
    async with store.client() as basic:  # Basic auth with the store's key
        refused = await basic.get(f"{API}/orders")
    # WooCommerce sees no credentials at all: the answer of an anonymous caller.
    assert refused.status_code == 401 and refused.json()["code"] == "woocommerce_rest_cannot_view"
    assert by_query.status_code == 200
    await store.aclose()


async def test_plain_permalinks_hide_wp_json_but_not_rest_route() -> None:
    store: FakeStore = make_store()
    store.knobs.update({"plain_permalinks": True})
    async with store.client() as client:
        missing = await client.get("/wp-json/")
        index = await client.get("/", params={"rest_route": "/"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert index.status_code == 200 and "wc/v3" in index.json()["namespaces"]
    await store.aclose()
