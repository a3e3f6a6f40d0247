"""Webhooks end to end: the fake stores deliver signed webhooks over loopback HTTP to the real
wcsync app (scheduler off, so nothing but the webhook can move an order)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from typing import Any

from app import cli
from app.sync.discover.webhooks import ORDER_TOPICS
from tests.e2e.support import TOKEN, Stack, make_fake, stack
from tests.waiting import until

log = logging.getLogger(__name__)


async def install_webhooks(s: Stack, store: str) -> dict[str, Any]:
    # The stores reach wcsync at its loopback URL (a random port: stock WordPress would refuse
    # it, the fake does not, hence the warning).
    s.settings.public_url = str(s.api.base_url).rstrip("/")
    response = await s.api.post(f"/api/stores/{store}/webhooks")
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert body["ok"] is True, body
    assert sorted(w["topic"] for w in body["webhooks"]) == sorted(ORDER_TOPICS)
    return body


async def test_a_signed_webhook_puts_a_new_main_order_on_its_sub_store(database_url: str) -> None:
    """The scheduler is off: only the webhook can move the order. The latency is logged, not
    asserted (timings on a shared machine are noise; it was 0.13-0.18 s on an idle one)."""
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        installed = await install_webhooks(s, "main")
        assert any("port" in w for w in installed["warnings"])

        started = time.monotonic()
        order = fakes["main"].place_order([("SKU-MUG-001", 2)])
        origin = f"main:{order['id']}"
        await until(
            lambda: s.replicas("sub1", origin), "the webhook to copy the order to sub1", interval=0.01
        )
        log.warning("webhook-to-replica latency: %.3f s", time.monotonic() - started)

        created = [d for d in fakes["main"].webhook_deliveries if d.topic == "order.created"]
        assert [d.status_code for d in created] == [202]
        await s.app.state.webhooks.wait_idle()
        runs = (await s.api.get("/api/runs")).json()
        assert [(r["kind"], r["order_id"], r["status"]) for r in runs] == [
            ("order", order["id"], "succeeded")
        ]
        s.exact("main", order["id"], "sub1")


async def test_a_wrongly_signed_delivery_is_refused_and_creates_nothing(database_url: str) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await install_webhooks(s, "main")
        for hook in fakes["main"].webhooks.webhooks.values():
            hook.secret = "NotTheSecretWcsyncKeeps0123456789abcdefg"

        order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        await fakes["main"].drain_webhooks()
        created = [d for d in fakes["main"].webhook_deliveries if d.topic == "order.created"]
        assert [d.status_code for d in created] == [401]
        await asyncio.sleep(0.3)  # room for a wrongly scheduled sync to show up
        await s.app.state.webhooks.wait_idle()
        assert s.replicas("sub1", f"main:{order['id']}") == []
        assert fakes["sub1"].orders == {}
        assert (await s.api.get("/api/runs")).json() == []
        assert (await s.api.get("/api/pending")).json()["total"] == 0


async def run_cli(*argv: str) -> tuple[int, str]:
    """`wcsync …` in a worker thread (it makes blocking HTTP calls to the app on this loop)."""

    def call() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(list(argv))
        return code, out.getvalue()

    return await asyncio.to_thread(call)


async def test_cli_installs_and_lists_through_the_api(database_url: str) -> None:
    fakes = {"main": make_fake("main")}
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        base = str(s.api.base_url).rstrip("/")
        s.settings.public_url = base
        remote = ("--url", base, "--token", TOKEN)
        code, installed = await run_cli("store", "webhooks", "install", "main", *remote)
        assert code == 0, installed
        assert f"delivery URL: {base}/api/webhooks/main" in installed
        assert installed.count(" created ") == 4 and "warning: The delivery URL uses port" in installed

        next(iter(fakes["main"].webhooks.webhooks.values())).status = "disabled"
        code, listed = await run_cli("store", "webhooks", "list", "main", *remote)
        assert code == 1  # a disabled webhook is worth a non-zero exit
        assert "secret held by wcsync: yes" in listed and "disabled" in listed
        for hook in fakes["main"].webhooks.webhooks.values():
            assert hook.secret not in installed + listed


async def test_webhooks_on_every_store_bring_sub_orders_to_main_and_replicas_never_echo(
    database_url: str,
) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1")}
    async with stack(database_url, fakes) as s:
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        for name in ("main", "sub1"):
            await install_webhooks(s, name)

        main_order = fakes["main"].place_order([("SKU-MUG-001", 1)])
        sub_order = fakes["sub1"].place_order([("SKU-TSHIRT-RED", 1)])
        await until(lambda: s.replicas("sub1", f"main:{main_order['id']}"), "main's webhook to copy to sub1")
        await until(lambda: s.replicas("main", f"sub1:{sub_order['id']}"), "sub1's webhook to copy to main")
        # Each replica's own order.created comes back to wcsync and is recognised as a replica.
        for fake in fakes.values():
            await fake.drain_webhooks()
        await s.app.state.webhooks.wait_idle()
        for fake in fakes.values():
            await fake.drain_webhooks()
        await s.app.state.webhooks.wait_idle()
        assert len(fakes["main"].orders) == 2 and len(fakes["sub1"].orders) == 2
        s.exact("main", main_order["id"], "sub1")
        s.exact("sub1", sub_order["id"], "main")
        topics = {
            (d.url.rsplit("/", 1)[-1], d.topic, d.status_code)
            for f in fakes.values()
            for d in f.webhook_deliveries
        }
        assert ("sub1", "order.created", 202) in topics and ("main", "order.created", 202) in topics
