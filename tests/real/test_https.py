"""The production path against real WooCommerce: sub2 served by nginx and PHP-FPM over HTTPS with
a certificate from the kit's local CA (wcsync trusts it through WCSYNC_CA_BUNDLE), the same store
behind a host that drops the Authorization header, a store with plain permalinks, and webhooks
delivered over HTTPS to wcsync behind nginx (deploy/nginx/wcsync.conf with a local certificate).

The replication tests (test_replication.py and the others) already reach sub2 over HTTPS with
Basic auth; these tests cover what only HTTPS and nginx bring."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import shutil
import socket
import subprocess
from base64 import b64encode
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sync.discover.webhooks import ORDER_TOPICS
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok, serve_wcsync
from tests.real.harness import HTTPS_STORE, Config, StoreInfo
from tests.real.stores import RealStore
from tests.real.test_webhooks import DELIVERY_TIMEOUT, remove_wcsync_webhooks

pytestmark = pytest.mark.real

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_SITE = ROOT / "deploy" / "nginx" / "wcsync.conf"
PERMALINKS = Path(__file__).resolve().parent / "permalinks.php"
# What deploy/nginx/wcsync.conf asks of wcsync's settings (and the README's production section):
# believe X-Forwarded-* from the nginx on the same host.
BEHIND_NGINX = {"trusted_proxies": "127.0.0.1"}


@pytest.fixture(scope="session")
def config() -> Config:
    return Config.from_env()


@pytest.fixture(scope="session")
def https_info(real_stores: list[StoreInfo]) -> StoreInfo:
    (info,) = [i for i in real_stores if i.name == HTTPS_STORE]
    assert info.https and info.ca_file is not None and info.ca_file.is_file(), info
    return info


@pytest.fixture(scope="session")
def stripped_url(config: Config, https_info: StoreInfo) -> str:
    """The HTTPS store through its second nginx server, which drops the Authorization header."""
    return f"https://127.0.0.1:{config.strip_port}"


async def add(wcsync: Wcsync, name: str, *, base_url: str, auth_mode: str, role: str = "sub") -> None:
    info = wcsync.stores[name].info
    response = await wcsync.api.post(
        "/api/stores",
        json={
            "name": name,
            "role": role,
            "base_url": base_url,
            "consumer_key": info.consumer_key,
            "consumer_secret": info.consumer_secret,
            "auth_mode": auth_mode,
        },
    )
    assert response.status_code == 201, response.text


async def check(wcsync: Wcsync, name: str) -> dict[str, Any]:
    response = await wcsync.api.post(f"/api/stores/{name}/check")
    assert response.status_code == 200, response.text
    return dict(response.json())


def failed(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in result["checks"] if not c["ok"]]


class TestTheHttpsStore:
    async def test_its_certificate_comes_from_the_local_ca_and_nothing_else_trusts_it(
        self, https_info: StoreInfo
    ) -> None:
        path = "/wp-json/wc/v3/system_status"
        auth = (https_info.consumer_key, https_info.consumer_secret)
        async with httpx.AsyncClient(verify=https_info.verify(), auth=auth, timeout=60) as trusting:
            answer = await trusting.get(https_info.base_url + path, params={"_fields": "environment"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["environment"]["site_url"] == https_info.base_url
        async with httpx.AsyncClient(auth=auth, timeout=60) as public_only:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await public_only.get(https_info.base_url + path)

    async def test_the_store_check_passes_over_https_with_basic_auth(self, wcsync: Wcsync) -> None:
        await wcsync.add_store(HTTPS_STORE, auth_mode="basic")
        result = await check(wcsync, HTTPS_STORE)
        assert failed(result) == [], result


class TestAHostThatDropsAuthorization:
    async def test_php_never_sees_the_credentials_there(
        self, https_info: StoreInfo, stripped_url: str
    ) -> None:
        # The same request, Basic auth, to the same PHP-FPM pool: WooCommerce takes it on the usual
        # server and answers 401 behind the one that drops the header.
        auth = (https_info.consumer_key, https_info.consumer_secret)
        async with httpx.AsyncClient(verify=https_info.verify(), auth=auth, timeout=60) as http:
            usual = await http.get(f"{https_info.base_url}/wp-json/wc/v3/orders", params={"per_page": "1"})
            dropped = await http.get(f"{stripped_url}/wp-json/wc/v3/orders", params={"per_page": "1"})
            by_query = await http.get(
                f"{stripped_url}/wp-json/wc/v3/orders",
                params={
                    "per_page": "1",
                    "consumer_key": https_info.consumer_key,
                    "consumer_secret": https_info.consumer_secret,
                },
                auth=None,
            )
        assert usual.status_code == 200, usual.text
        assert dropped.status_code == 401, dropped.text
        assert dropped.json()["code"] == "woocommerce_rest_cannot_view"
        assert by_query.status_code == 200, by_query.text

    async def test_the_store_check_names_the_cause_and_the_remedy(
        self, wcsync: Wcsync, stripped_url: str
    ) -> None:
        # The wording is app/sync/stores.py's check_store (issue 16).
        await add(wcsync, HTTPS_STORE, base_url=stripped_url, auth_mode="basic")
        result = await check(wcsync, HTTPS_STORE)
        assert result["ok"] is False
        (read,) = [c for c in failed(result) if c["name"] == "read"]
        assert "Authorization header" in read["detail"], read
        assert "auth_mode query" in read["detail"], read

    async def test_query_auth_replicates_both_ways_there(self, wcsync: Wcsync, stripped_url: str) -> None:
        await wcsync.add_store("main", role="main")
        await add(wcsync, HTTPS_STORE, base_url=stripped_url, auth_mode="query")
        assert failed(await check(wcsync, HTTPS_STORE)) == []
        main, sub2 = wcsync.stores["main"], wcsync.stores[HTTPS_STORE]
        down = await main.place_order(
            [("SKU-TSHIRT-RED", 1), ("SKU-STICKER", 3)], fees=[("Gift wrap", "2.50")]
        )
        up = await sub2.place_order(
            [("SKU-HOODIE-L", 1)], note="Placed behind a host that drops Authorization"
        )
        run = await wcsync.sync()
        assert_run_ok(run, down, up)
        (copy,) = await sub2.replicas(f"main:{down['id']}", wcsync.started)
        assert_faithful_copy(await main.order(down["id"]), copy, origin_store="main")
        (copy,) = await main.replicas(f"{HTTPS_STORE}:{up['id']}", wcsync.started)
        assert_faithful_copy(await sub2.order(up["id"]), copy, origin_store=HTTPS_STORE)


def set_permalinks(info: StoreInfo, structure: str) -> None:
    result = subprocess.run(
        ["php", str(PERMALINKS), str(info.site), info.base_url, structure],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def plain_permalinks(request: pytest.FixtureRequest, real_stores: list[StoreInfo]) -> Iterator[StoreInfo]:
    """The store named by the test's parameter with plain permalinks, pretty ones again after."""
    (info,) = [i for i in real_stores if i.name == request.param]
    set_permalinks(info, "plain")
    try:
        yield info
    finally:
        set_permalinks(info, "pretty")


# main is WordPress 6.1 behind php -S (its home page at /wp-json/), sub2 WordPress 6.8 behind
# nginx (a redirect of /wp-json/ to itself).
@pytest.mark.parametrize("plain_permalinks", ["main", HTTPS_STORE], indirect=True)
async def test_the_store_check_says_plain_permalinks(wcsync: Wcsync, plain_permalinks: StoreInfo) -> None:
    name = plain_permalinks.name
    await wcsync.add_store(name, role="main" if name == "main" else "sub")
    result = await check(wcsync, name)
    (reachable,) = failed(result)
    assert reachable["name"] == "reachable"
    assert "permalinks" in reachable["detail"], reachable


# -- webhooks over HTTPS to wcsync behind nginx ---------------------------------------------------


def proxy_config(site: str, *, port: int, upstream: str, cert: Path, key: Path, folder: Path) -> str:
    """deploy/nginx/wcsync.conf as a test runs it: on a loopback port, with the local CA's
    certificate, in front of this test's wcsync; everything else as shipped."""
    for pattern, value in (
        (r"listen\s+443\s+ssl;", f"listen 127.0.0.1:{port} ssl;"),
        (r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};"),
        (r"proxy_pass\s+http://127\.0\.0\.1:8000;", f"proxy_pass {upstream};"),
    ):
        site, found = re.subn(pattern, value, site)
        assert found == 1, f"{DEPLOY_SITE} no longer has one {pattern!r}: adapt tests/real/test_https.py"
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# deploy/nginx/wcsync.conf in front of a test's wcsync (tests/real/test_https.py)
daemon off;
user root root;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    access_log {folder / "access.log"};
    {temp}
{site}
}}
"""


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
async def proxied(tmp_path: Path, stores: dict[str, RealStore]) -> AsyncIterator[Wcsync]:
    """A fresh wcsync set up as it runs behind deploy/nginx/wcsync.conf."""
    folder = tmp_path / "wcsync"
    folder.mkdir()
    async with serve_wcsync(folder, stores, **BEHIND_NGINX) as served:
        yield served


@pytest.fixture
async def behind_nginx(
    proxied: Wcsync, config: Config, https_info: StoreInfo, tmp_path: Path
) -> AsyncIterator[str]:
    """`proxied` behind nginx on https://127.0.0.1:<proxy port> (its public URL); the access log
    is tmp_path/nginx/access.log."""
    wcsync = proxied
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = tmp_path / "nginx"
    folder.mkdir()
    tls = config.ca_file.parent
    conf = folder / "nginx.conf"
    conf.write_text(
        proxy_config(
            DEPLOY_SITE.read_text(),
            port=config.proxy_port,
            upstream=wcsync.base_url,
            cert=tls / "server.pem",
            key=tls / "server.key",
            folder=folder,
        )
    )
    assert not _listening(config.proxy_port), f"port {config.proxy_port} is taken: a proxy of an earlier run?"
    log = (folder / "nginx.out").open("w")
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", f"{folder}/"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not _listening(config.proxy_port):
            assert proxy.poll() is None, (folder / "nginx.out").read_text()
            assert asyncio.get_running_loop().time() < deadline, "nginx did not listen within 30 s"
            await asyncio.sleep(0.1)
        public = f"https://127.0.0.1:{config.proxy_port}"
        wcsync.settings.public_url = public
        yield public
    finally:
        proxy.terminate()
        try:
            proxy.wait(10)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait(10)
        log.close()


@pytest.fixture
async def hooked_https(proxied: Wcsync) -> AsyncIterator[RealStore]:
    store = proxied.stores[HTTPS_STORE]
    await remove_wcsync_webhooks(store)
    try:
        yield store
    finally:
        await remove_wcsync_webhooks(store)


def deliveries(access_log: Path, store: str) -> list[str]:
    """The webhook deliveries nginx passed to wcsync: POSTs to /api/webhooks/<store> from
    WooCommerce's user agent ("WooCommerce/<version> Hookshot (WordPress/<version>)")."""
    if not access_log.is_file():
        return []
    return [
        line
        for line in access_log.read_text().splitlines()
        if f'"POST /api/webhooks/{store} ' in line and "Hookshot" in line
    ]


async def test_webhooks_reach_wcsync_over_https_behind_nginx(
    proxied: Wcsync, behind_nginx: str, hooked_https: RealStore, https_info: StoreInfo, tmp_path: Path
) -> None:
    wcsync, source = proxied, hooked_https
    await wcsync.add_store("main", role="main")
    await wcsync.add_store(HTTPS_STORE, auth_mode="basic")
    response = await wcsync.api.post(f"/api/stores/{HTTPS_STORE}/webhooks")
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True, response.json()
    on_store = [h for h in await source.request("GET", "/webhooks") if str(h["name"]).startswith("wcsync ")]
    assert sorted(h["topic"] for h in on_store) == sorted(ORDER_TOPICS)
    assert {h["delivery_url"] for h in on_store} == {f"{behind_nginx}/api/webhooks/{HTTPS_STORE}"}

    # The proxy is as strict as wcsync behind it: a delivery with a wrong signature is refused.
    body = b'{"id": 1}'
    forged = hmac.new(b"not the secret", body, hashlib.sha256).digest()
    async with httpx.AsyncClient(verify=https_info.verify(), timeout=60) as outsider:
        refused = await outsider.post(
            f"{behind_nginx}/api/webhooks/{HTTPS_STORE}",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-WC-Webhook-Topic": "order.created",
                "X-WC-Webhook-Signature": b64encode(forged).decode(),
            },
        )
    assert refused.status_code == 401, refused.text

    order = await source.place_order([("SKU-MUG-001", 2)], fees=[("Gift card", "1.50")], note="Over HTTPS")
    origin_key = f"{HTTPS_STORE}:{order['id']}"
    found = await wcsync.stores["main"].wait_for_replicas(
        origin_key, wcsync.started, timeout=DELIVERY_TIMEOUT
    )
    # None: WooCommerce did not deliver (its webhook-delivery log says why; without
    # tests/real/mu-plugins/local-ca.php, WordPress refuses the proxy's certificate).
    assert len(found) == 1, f"main: {len(found)} replicas of {origin_key} after {DELIVERY_TIMEOUT} s"
    (replica,) = found
    assert_faithful_copy(await source.order(order["id"]), replica, origin_store=HTTPS_STORE)
    await wcsync.app.state.webhooks.wait_idle()
    runs = (await wcsync.api.get("/api/runs")).json()
    assert ("order", order["id"], "succeeded") in [(r["kind"], r["order_id"], r["status"]) for r in runs]
    # What moved it came through nginx over TLS, from WooCommerce, and wcsync took it.
    arrived = deliveries(tmp_path / "nginx" / "access.log", HTTPS_STORE)
    assert arrived, "no webhook delivery went through the HTTPS proxy"
    assert all(re.search(r'" (200|202) ', line) for line in arrived), arrived
