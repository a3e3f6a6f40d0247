"""A bulk edit on a real store (issue 15, item 9): a thousand orders whose last change fell in one
second, then an order placed after them. Discovery must read past that second and copy the later
order.

What this proves, and what it does not. The real stores run under `php -S`, which accepts a long
request line, so the 414 that nginx and Apache answer past 8 KB is not seen here: the fake store
answers it (tests/e2e/test_bulk_edit.py, tests/testing/test_listing.py). This test proves the
paging semantics the fix relies on, on real WooCommerce 7.8 (posts storage): with more orders in
one second than a keyset request may exclude, wcsync reads that second alone (`modified_after` and
`modified_before` one second either side, `orderby=id`, `offset`), never sends an `exclude=` list
longer than its bound, reads every one of the thousand (each skipped as placed before the store
was added: no copy is made of them), and the order placed after them is copied exactly to both
sub-stores. The one-second/`orderby=id`/`offset` semantics on 7.8 HPOS and 10.6 are checked by
`test_one_second_is_read_by_id_and_offset_on_every_store` below.

The thousand orders are made once and reused by later runs (`_wcsync_test_bulk` marks them): one
order placed through the REST API, cloned in the database (a REST batch of 100 takes minutes on a
busy machine). Each run sets their dates itself: created in 2020 (before any store was added, so
never copied), last modified in one second just after this test's wcsync added the store."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from app.config import store_tls_context
from app.db import create_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import Store
from app.sync.discover.listing import EXCLUDE_LIMIT
from tests.e2e.support import TOKEN, loopback, service_settings
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, ca_bundle
from tests.real.harness import Config, StoreInfo
from tests.real.stores import RealStore, wc_time

pytestmark = pytest.mark.real

BULK = 1000
MARK = "_wcsync_test_bulk"


def sql(info: StoreInfo, statement: str) -> list[list[str]]:
    """Run SQL on the store's database (MariaDB root over its socket); rows as lists of text."""
    database = Config.from_env().db_prefix + info.name
    done = subprocess.run(
        ["mysql", "-uroot", "--batch", "--skip-column-names", database, "-e", statement],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


async def bulk_orders(store: RealStore) -> list[int]:
    """The thousand marked orders of a posts-storage store, made now if an earlier run did not."""
    assert not store.info.hpos, "the clone below writes the posts storage"
    marked = [
        int(r[0]) for r in sql(store.info, f"SELECT post_id FROM wp_postmeta WHERE meta_key = '{MARK}'")
    ]
    if len(marked) < BULK:
        if not marked:
            template = await store.place_order([("SKU-STICKER", 1)], status="completed", meta={MARK: "1"})
            marked = [template["id"]]
        template_id, missing = marked[0], BULK - len(marked)
        clone_name = f"CONCAT('wcsync-bulk-{len(marked)}-', seq)"
        columns = (
            "post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, "
            "post_status, comment_status, ping_status, post_password, {name}, to_ping, pinged, "
            "post_modified, post_modified_gmt, post_content_filtered, post_parent, guid, menu_order, "
            "post_type, post_mime_type, comment_count"
        )
        sql(
            store.info,
            f"INSERT INTO wp_posts ({columns.format(name='post_name')}) "
            f"SELECT {columns.format(name=clone_name)} "
            f"FROM wp_posts, seq_1_to_{missing} WHERE ID = {template_id};"
            "INSERT INTO wp_postmeta (post_id, meta_key, meta_value) "
            "SELECT p.ID, m.meta_key, m.meta_value FROM wp_posts p JOIN wp_postmeta m "
            f"ON m.post_id = {template_id} WHERE p.post_name LIKE 'wcsync-bulk-{len(marked)}-%';",
        )
        marked = [
            int(r[0]) for r in sql(store.info, f"SELECT post_id FROM wp_postmeta WHERE meta_key = '{MARK}'")
        ]
    assert len(marked) >= BULK
    return sorted(marked)


def bulk_edit(info: StoreInfo, ids: list[int], moment: datetime) -> None:
    """One bulk action: every order last modified at `moment` (the store keeps UTC), created in
    2020."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert sql(info, "SELECT option_value FROM wp_options WHERE option_name = 'gmt_offset'") == [["0"]]
    sql(
        info,
        f"UPDATE wp_posts SET post_date = '2020-01-01 00:00:00', post_date_gmt = '2020-01-01 00:00:00', "
        f"post_modified = '{stamp}', post_modified_gmt = '{stamp}' WHERE ID IN ({','.join(map(str, ids))})",
    )


Sent = dict[str, list[tuple[dict[str, list[str]], list[int]]]]


class Recorder(httpx.AsyncHTTPTransport):
    """The order listings wcsync sends, by store: each query with the ids it was answered."""

    def __init__(self, name: str, sent: Sent, verify: ssl.SSLContext | bool) -> None:
        super().__init__(verify=verify)
        self._mine = sent.setdefault(name, [])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "GET" and request.url.path.endswith("/orders"):
            body = await response.aread()
            rows = json.loads(body) if response.status_code == 200 else []
            ids = [row["id"] for row in rows if isinstance(row, dict)]
            self._mine.append((parse_qs(request.url.query.decode()), ids))
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, extensions=response.extensions
            )
        return response


@asynccontextmanager
async def recorded_wcsync(folder: Path, stores: dict[str, RealStore]) -> AsyncIterator[tuple[Wcsync, Sent]]:
    """As tests/real/conftest.serve_wcsync, with the listings wcsync sends recorded."""
    url = f"sqlite+aiosqlite:///{folder / 'wcsync.db'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    settings = service_settings(url, store_timeout_seconds=60.0, ca_bundle=ca_bundle(stores))
    sent: Sent = {}
    verify = store_tls_context(settings.ca_bundle)

    def transport(store: Store) -> httpx.AsyncBaseTransport:
        return Recorder(store.name, sent, verify)

    app = create_app(settings, transport_factory=transport)
    async with loopback(app) as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300
        ) as api:
            yield Wcsync(api=api, base_url=base, app=app, settings=settings, stores=stores), sent


async def test_discovery_reads_past_a_thousand_orders_modified_in_one_second(
    tmp_path: Path, stores: dict[str, RealStore]
) -> None:
    main = stores["main"]
    ids = await bulk_orders(main)
    async with recorded_wcsync(tmp_path, stores) as (wcsync, sent):
        await wcsync.add_all()
        bulk_second = datetime.now(UTC).replace(microsecond=0)
        bulk_edit(main.info, ids, bulk_second)
        while datetime.now(UTC) < bulk_second + timedelta(seconds=1.2):
            await asyncio.sleep(0.1)  # the later order falls in a later second
        later = await main.place_order([("SKU-MUG-001", 2)], shipping="4.50")
        assert later["date_modified_gmt"] > wc_time(bulk_second)
        sent["main"].clear()
        run = await wcsync.sync()
        assert run["status"] == "succeeded", run
        # The later order reached both sub-stores, exactly; none of the thousand was copied.
        for name in ("sub1", "sub2"):
            (copy,) = await stores[name].replicas(f"main:{later['id']}", wcsync.started)
            assert_faithful_copy(later, copy, origin_store="main")
        assert run["counts"]["created"] == 2, run
        assert (await wcsync.pending())["total"] == 0
    # How: the crowded second was read alone (its own bounds, by id and offset) and every one of
    # the thousand was read there; no request excluded more ids than the bound.
    listings = sent["main"]
    by_id = [(q, seen) for q, seen in listings if q.get("orderby") == ["id"] and "offset" in q]
    assert len(by_id) >= BULK // 100
    for query, _ in by_id:
        assert query["modified_after"] == [wc_time(bulk_second - timedelta(seconds=1))], query
        assert query["modified_before"] == [wc_time(bulk_second + timedelta(seconds=1))], query
    assert set(ids) <= {i for _, seen in by_id for i in seen}
    assert all(len(q["exclude"][0].split(",")) <= EXCLUDE_LIMIT for q, _ in listings if "exclude" in q)
    assert any(later["id"] in seen for q, seen in listings if q.get("orderby") == ["modified"])


async def test_one_second_is_read_by_id_and_offset_on_every_store(stores: dict[str, RealStore]) -> None:
    """What the crowded-second walk relies on, on 7.8 posts, 7.8 HPOS and 10.6 HPOS: both date
    bounds exclusive at the second, `orderby=id` ascending, `offset` honoured with `page=1`."""
    moment = datetime(2021, 3, 1, 12, 0, 5, tzinfo=UTC)
    for name, store in stores.items():
        probe = {
            "status": "completed",
            "line_items": [{"product_id": store.product_id("SKU-STICKER"), "quantity": 1}],
            "meta_data": [{"key": MARK, "value": "probe"}],
        }
        placed = (
            await store.request(
                "POST",
                "/orders/batch",
                json={"create": [probe] * 6},
            )
        )["create"]
        ids = sorted(o["id"] for o in placed)
        table, key, column = (
            ("wp_wc_orders", "id", "date_updated_gmt")
            if store.info.hpos
            else ("wp_posts", "ID", "post_modified_gmt")
        )
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        sql(store.info, f"UPDATE {table} SET {column} = '{stamp}' WHERE {key} IN ({','.join(map(str, ids))})")
        common = {
            "modified_after": wc_time(moment - timedelta(seconds=1)),
            "modified_before": wc_time(moment + timedelta(seconds=1)),
            "dates_are_gmt": "true",
            "orderby": "id",
            "order": "asc",
            "status": "any,trash",
            "_fields": "id,date_modified_gmt",
            "page": "1",
        }

        async def listed(**extra: str) -> list[int]:
            rows = await store.request("GET", "/orders", params={**common, **extra})  # noqa: B023
            return [row["id"] for row in rows]

        # (Earlier runs left orders at that second too: every one of them is listed, in id order.)
        everything = await listed(per_page="100")
        assert set(ids) <= set(everything) and everything == sorted(everything), name
        mine = [everything.index(i) for i in ids]
        assert await listed(per_page="2", offset=str(mine[2])) == everything[mine[2] : mine[2] + 2], name
        assert await listed(per_page="100", modified_before=wc_time(moment)) == [], name
        assert await listed(per_page="100", modified_after=wc_time(moment)) == [], name
        # Deleted, so that no other test meets them.
        await store.request("POST", "/orders/batch", json={"delete": ids})
