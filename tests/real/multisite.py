"""A WordPress multisite network in sub-directory mode for `make test-real`: WordPress 6.8.12 with
WooCommerce 10.6.2 network-activated, and two sub-sites set up as shops, `/shopa/` (HPOS) and
`/shopb/` (posts storage), each with its own REST key and the kit's five SKUs under different
product ids. wcsync uses them as a main store and a sub-store whose base URLs have a path
(``http://127.0.0.1:PORT/shopa``).

The network is served by PHP's built-in server with a router doing the sub-directory rewrites
(tests/real/realwc/scripts/multisite-router.php), has its own MariaDB database
(``<WCSYNC_REALWC_DB_PREFIX>network``) and lives in ``<WCSYNC_REALWC_DIR>/multisite``. It is set up
once per folder and reused while its settings match; a pytest that needs it starts it and stops
it when it exits, and ``python -m tests.real.multisite up|down|status|reset`` runs the same steps
from the Makefile (``make test-real`` stops it with the other stores).

Its port is ``WCSYNC_REALWC_PORT_BASE + 8`` unless ``WCSYNC_REALWC_MULTISITE_PORT`` says
otherwise. Nothing here knows about the single-site stores beyond sharing their settings, so the
network can later move behind another web server by replacing `start` and `stop`.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.real.harness import MU_PLUGINS, Config, HarnessError, StoreInfo
from tests.real.stores import RealStore, open_stores

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.real.conftest import Wcsync

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "realwc" / "scripts"
WORDPRESS, WOOCOMMERCE = "6.8.12", "10.6.2"
# (slug, order storage) of each shop sub-site, in the order their products are made (the second
# gets a filler product first, so every SKU has another id on each).
SITES = (("shopa", "hpos"), ("shopb", "posts"))
PORT_OFFSET = 8
DB_USER, DB_PASS = "wc", "wcpass"
ADMIN_USER, ADMIN_PASSWORD = "admin", "adminpass"
START_TIMEOUT = 180


@dataclass(frozen=True)
class Network:
    """Where the network lives and how it is reached."""

    dist: str
    dir: Path
    port: int
    database: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Network:
        env = dict(os.environ) if env is None else env
        config = Config.from_env(env)
        port = env.get("WCSYNC_REALWC_MULTISITE_PORT", "") or str(config.port_base + PORT_OFFSET)
        if not port.isdigit() or not 1024 <= int(port) <= 65535:
            raise HarnessError(f"WCSYNC_REALWC_MULTISITE_PORT={port!r} must be a port from 1024 to 65535")
        return cls(
            dist=config.dist,
            dir=config.dir / "multisite",
            port=int(port),
            database=f"{config.db_prefix}network",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site(self) -> Path:
        return self.dir / "site"

    def site_url(self, slug: str) -> str:
        return f"{self.url}/{slug}"

    @property
    def stores_json(self) -> Path:
        return self.dir / "stores.json"

    @property
    def settings(self) -> dict[str, Any]:
        return {"port": self.port, "database": self.database, "wordpress": WORDPRESS, "sites": SITES}


# ------------------------------------------------------------------ MariaDB


def _mysql(sql: str) -> str:
    result = subprocess.run(["mysql", "-uroot", "-N", "-B", "-e", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"MariaDB refused {sql[:80]!r}: {result.stderr.strip()}")
    return result.stdout.strip()


def _ensure_mariadb() -> None:
    """MariaDB answers, started as the kit starts it if it does not (the network may be wanted
    before the single-site stores, which start it too)."""

    def ping() -> bool:
        return subprocess.run(["mysqladmin", "ping", "--silent"], capture_output=True).returncode == 0

    if ping():
        return
    subprocess.run(["service", "mariadb", "start"], capture_output=True)
    deadline = time.monotonic() + 60
    while not ping():
        if time.monotonic() > deadline:
            raise HarnessError("MariaDB is not running and `service mariadb start` did not start it")
        time.sleep(1)


def _database_exists(network: Network) -> bool:
    return bool(_mysql(f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='{network.database}'"))


def _folder_id(network: Network) -> str:
    path = network.dir / ".id"
    if not path.is_file():
        network.dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(8) + "\n")
    return path.read_text().strip()


def _create_database(network: Network) -> None:
    db, mark = network.database, f"wcsync-multisite:{_folder_id(network)}"
    if _database_exists(network):
        comment = _mysql(f"SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='{db}'")
        if comment != mark:
            raise HarnessError(
                f"database {db} exists and was not made for {network.dir} (comment {comment!r}); "
                "set another WCSYNC_REALWC_DB_PREFIX or drop it"
            )
    _mysql(
        f"CREATE USER IF NOT EXISTS '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASS}';"
        f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci "
        f"COMMENT '{mark}';"
        f"GRANT ALL ON `{db}`.* TO '{DB_USER}'@'localhost'; FLUSH PRIVILEGES;"
    )


# ------------------------------------------------------------------ set-up


def _archive(dist: str, names: tuple[str, ...]) -> Path:
    for name in names:
        path = Path(dist) / name
        if path.is_file():
            return path
    raise HarnessError(f"WCSYNC_REALWC_DIST={dist} lacks {names[-1]} (download it from wordpress.org)")


def _unpack(network: Network) -> None:
    site = network.site
    if not (site / "wp-settings.php").is_file():
        wp = _archive(network.dist, (f"wpbase-{WORDPRESS}.tar.gz", f"wordpress-{WORDPRESS}.tar.gz"))
        unpacked = network.dir / "unpack"
        shutil.rmtree(unpacked, ignore_errors=True)
        with tarfile.open(wp) as archive:
            archive.extractall(unpacked, filter="tar")
        (top,) = list(unpacked.iterdir())
        shutil.rmtree(site, ignore_errors=True)
        top.rename(site)
        unpacked.rmdir()
    plugins = site / "wp-content" / "plugins"
    if not (plugins / "woocommerce" / "woocommerce.php").is_file():
        wc = _archive(network.dist, (f"woocommerce-{WOOCOMMERCE}.tar.gz", f"woocommerce.{WOOCOMMERCE}.zip"))
        plugins.mkdir(parents=True, exist_ok=True)
        if wc.suffix == ".zip":
            with zipfile.ZipFile(wc) as archive:
                archive.extractall(plugins)
        else:
            with tarfile.open(wc) as archive:
                archive.extractall(plugins, filter="tar")
    for folder in ("mu-plugins", "uploads"):
        (site / "wp-content" / folder).mkdir(parents=True, exist_ok=True)
    install_mu_plugins(network)


def install_mu_plugins(network: Network) -> None:
    """The kit's test-store glue (wcrig.php) and the realistic shop's must-use plugins, as on the
    single-site stores: must-use plugins load on every site of a network."""
    target = network.site / "wp-content" / "mu-plugins"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SCRIPTS / "wcrig.php", target / "wcrig.php")
    for plugin in sorted(MU_PLUGINS.glob("*.php")):
        shutil.copyfile(plugin, target / f"wcsync-test-{plugin.name}")


def _write_config(network: Network) -> None:
    path = network.site / "wp-config.php"
    if path.is_file():
        return
    salts = "".join(
        f"define( '{key}', '{secrets.token_hex(32)}' );\n"
        for key in (
            "AUTH_KEY",
            "SECURE_AUTH_KEY",
            "LOGGED_IN_KEY",
            "NONCE_KEY",
            "AUTH_SALT",
            "SECURE_AUTH_SALT",
            "LOGGED_IN_SALT",
            "NONCE_SALT",
        )
    )
    path.write_text(
        f"""<?php
// wp-config of wcsync's multisite test network (written by tests/real/multisite.py)
define( 'DB_NAME', '{network.database}' );
define( 'DB_USER', '{DB_USER}' );
define( 'DB_PASSWORD', '{DB_PASS}' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{salts}$table_prefix = 'wp_';
// MULTISITE and the network's address, once the network exists.
if ( file_exists( __DIR__ . '/wp-config-network.php' ) ) {{ require __DIR__ . '/wp-config-network.php'; }}
define( 'WCRIG_STORE', 'network' );
define( 'WCRIG_LOG_DIR', dirname( __DIR__ ) . '/logs' );
define( 'DISABLE_WP_CRON', true );
define( 'WP_CRON_LOCK_TIMEOUT', 10 );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'FS_METHOD', 'direct' );
define( 'WP_DEBUG', false );
define( 'WP_DEBUG_LOG', false );
define( 'WP_DEBUG_DISPLAY', false );
if ( ! defined( 'ABSPATH' ) ) {{ define( 'ABSPATH', __DIR__ . '/' ); }}
require_once ABSPATH . 'wp-settings.php';
"""
    )


def _write_network_config(network: Network) -> None:
    host = f"127.0.0.1:{network.port}"
    (network.site / "wp-config-network.php").write_text(
        f"""<?php
// The multisite network (sub-directory mode) of wcsync's tests.
define( 'WP_ALLOW_MULTISITE', true );
define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', '{host}' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
"""
    )


def _php(network: Network, *args: str, log: str, done: str = "") -> str:
    result = subprocess.run(["php", *args], capture_output=True, text=True, timeout=600)
    logs = network.dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / log).open("a") as out:
        out.write(f"$ php {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    # WordPress may print a database error page and still exit 0: each step ends with its word.
    if result.returncode != 0 or (done and done not in result.stdout.splitlines()):
        raise HarnessError(
            f"multisite set-up failed at {' '.join(args[:4])}: "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


def _is_set_up(network: Network) -> bool:
    conf = network.dir / "settings.json"
    return (
        conf.is_file()
        and json.loads(conf.read_text()) == json.loads(json.dumps(network.settings))
        and network.stores_json.is_file()
        and (network.site / "wp-config-network.php").is_file()
        and _database_exists(network)
    )


def setup(network: Network) -> None:
    """Build the network (idempotent: what exists is kept)."""
    began = time.monotonic()
    conf = network.dir / "settings.json"
    if conf.is_file() and json.loads(conf.read_text()) != json.loads(json.dumps(network.settings)):
        reset(network)  # another port or database: start again from nothing
    network.dir.mkdir(parents=True, exist_ok=True)
    if not _database_exists(network) and (network.site / "wp-config.php").exists():
        shutil.rmtree(network.site)  # the database is gone: rebuild the tree too
        shutil.rmtree(network.dir / "keys", ignore_errors=True)
    _create_database(network)
    _unpack(network)
    _write_config(network)
    site = str(network.site)
    _php(
        network,
        str(SCRIPTS / "multisite-install.php"),
        site,
        network.url,
        "network",
        "wcsync network",
        log="setup.log",
        done="network ready",
    )
    _write_network_config(network)
    slugs = [slug for slug, _ in SITES]
    _php(
        network,
        str(SCRIPTS / "multisite-install.php"),
        site,
        network.url,
        "sites",
        *slugs,
        log="setup.log",
        done="sites ready",
    )
    keys = network.dir / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    entries = []
    for position, (slug, storage) in enumerate(SITES):
        out = _php(
            network,
            str(SCRIPTS / "phase3-wc.php"),
            site,
            network.site_url(slug),
            slug,
            "1" if storage == "hpos" else "0",
            str(keys),
            str(position),
            log=f"setup-{slug}.log",
        )
        (line,) = [ln for ln in out.splitlines() if ln.startswith("{")][-1:]
        entries.append(json.loads(line))
    fd = os.open(network.stores_json, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=2)
    conf.write_text(json.dumps(network.settings))
    print(f"multisite: set up in {time.monotonic() - began:.0f} s at {network.url}", file=sys.stderr)


def load(network: Network) -> list[StoreInfo]:
    entries: list[dict[str, Any]] = json.loads(network.stores_json.read_text())
    return [
        StoreInfo(
            name=e["name"],
            base_url=e["base_url"],
            consumer_key=e["consumer_key"],
            consumer_secret=e["consumer_secret"],
            hpos=bool(e["hpos"]),
            woocommerce=e["woocommerce"],
            wordpress=e["wordpress"],
            products={str(k): int(v) for k, v in e["products"].items()},
            # The network's one WordPress tree: plugins and must-use plugins are shared.
            site=network.site,
        )
        for e in entries
    ]


# ------------------------------------------------------------------ processes


def _pidfile(network: Network, name: str) -> Path:
    return network.dir / "run" / f"{name}.pid"


def _alive(network: Network, name: str, mark: str) -> int | None:
    """The process group recorded for `name`, if it still runs a command line holding `mark`."""
    try:
        pid = int(_pidfile(network, name).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if mark in cmdline else None


def _marks(network: Network) -> dict[str, str]:
    return {"server": f"-S 127.0.0.1:{network.port}", "cronpump": f"cronpump.sh {network.url}/"}


def _launch(network: Network, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
    logs, run = network.dir / "logs", network.dir / "run"
    logs.mkdir(parents=True, exist_ok=True)
    run.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("a") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=dict(os.environ, **(env or {})),
        )
    _pidfile(network, name).write_text(f"{process.pid}\n")


def _system_status(info: dict[str, Any]) -> int:
    request = urllib.request.Request(info["base_url"] + "/wp-json/wc/v3/system_status?_fields=environment")
    token = base64.b64encode(f"{info['consumer_key']}:{info['consumer_secret']}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def start(network: Network) -> None:
    """Start the network's server and cron pump (what already runs is kept); returns once both
    shops answer system_status."""
    marks = _marks(network)
    if _alive(network, "server", marks["server"]) is None:
        _launch(
            network,
            "server",
            [
                "php",
                "-d", "opcache.enable_cli=1",
                "-d", "opcache.memory_consumption=256",
                "-d", "opcache.max_accelerated_files=20000",
                "-d", "display_errors=0",
                "-d", "log_errors=1",
                "-d", f"error_log={network.dir / 'logs' / 'php-error.log'}",
                "-d", "memory_limit=512M",
                "-d", "max_execution_time=0",
                "-S", f"127.0.0.1:{network.port}",
                "-t", str(network.site),
                str(SCRIPTS / "multisite-router.php"),
            ],
            env={"PHP_CLI_SERVER_WORKERS": "4"},
        )  # fmt: skip
    if _alive(network, "cronpump", marks["cronpump"]) is None:
        # Each site of a network has its own WP-Cron and Action Scheduler queue.
        urls = [f"{network.url}/", *(network.site_url(slug) for slug, _ in SITES)]
        _launch(network, "cronpump", ["bash", str(SCRIPTS / "cronpump.sh"), *urls])
    entries = json.loads(network.stores_json.read_text())
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(entries)
    while waiting:
        if _alive(network, "server", marks["server"]) is None:
            log = (network.dir / "logs" / "server.log").read_text(errors="replace").strip().splitlines()
            raise HarnessError(f"the multisite network's server exited: {log[-1] if log else 'no output'}")
        waiting = [e for e in waiting if _system_status(e) != 200]
        if waiting and time.monotonic() > deadline:
            names = ", ".join(e["name"] for e in waiting)
            raise HarnessError(
                f"the multisite network's shops did not answer within {START_TIMEOUT} s: {names}"
            )
        if waiting:
            time.sleep(1)


def stop(network: Network) -> None:
    """Stop the processes this folder recorded (only those, by their process group)."""
    for name, mark in _marks(network).items():
        pid = _alive(network, name, mark)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(40):
                if _alive(network, name, mark) is None:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        _pidfile(network, name).unlink(missing_ok=True)


def running(network: Network) -> bool:
    if not _is_set_up(network):
        return False
    marks = _marks(network)
    if _alive(network, "server", marks["server"]) is None:
        return False
    return all(_system_status(e) == 200 for e in json.loads(network.stores_json.read_text()))


def reset(network: Network) -> None:
    """Stop the network, drop its database (only if this folder made it) and remove its folder."""
    if not network.dir.is_dir():
        return
    stop(network)
    mark = f"wcsync-multisite:{_folder_id(network)}"
    if _database_exists(network):
        comment = _mysql(
            f"SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='{network.database}'"
        )
        if comment == mark:
            _mysql(f"DROP DATABASE `{network.database}`")
    shutil.rmtree(network.dir)


def up(network: Network) -> list[StoreInfo]:
    if not network.dist:
        raise HarnessError("the multisite network needs WCSYNC_REALWC_DIST (see docs/development.md)")
    _ensure_mariadb()
    if not _is_set_up(network):
        setup(network)
    install_mu_plugins(network)
    start(network)
    return load(network)


_session: list[StoreInfo] | None = None


def session_network() -> list[StoreInfo]:
    """The network's two shops for this test process: started here if not running, and then
    stopped when the process exits."""
    global _session
    if _session is None:
        network = Network.from_env()
        _ensure_mariadb()
        if running(network):
            _session = load(network)
        else:
            atexit.register(stop, network)
            _session = up(network)
    return _session


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def network_shops() -> list[StoreInfo]:
    try:
        return session_network()
    except HarnessError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture
async def network_stores(network_shops: list[StoreInfo]) -> AsyncIterator[dict[str, RealStore]]:
    async with open_stores(network_shops) as opened:
        yield opened


@pytest.fixture
async def netsync(tmp_path: Path, network_stores: dict[str, RealStore]) -> AsyncIterator[Wcsync]:
    """A fresh wcsync (as the `wcsync` fixture) whose stores are the network's two shops."""
    from tests.real.conftest import serve_wcsync  # conftest imports this module

    async with serve_wcsync(tmp_path, network_stores) as served:
        yield served


async def add_shops(wcsync: Wcsync) -> None:
    """shopa as the main store (Basic auth), shopb as a sub-store (OAuth 1.0a): base URLs with a
    path, signed with it."""
    await wcsync.add_store("shopa", role="main")
    await wcsync.add_store("shopb", auth_mode="oauth1")


# ------------------------------------------------------------------ the plugin, network-wide

PLUGIN_FILE = "wcsync-admin/wcsync-admin.php"
RESET = HERE / "plugin_reset.php"


def remove_plugin(shops: list[StoreInfo]) -> None:
    """Deactivate the plugin network-wide, forget its settings on every shop, delete its folder."""
    target = shops[0].site / "wp-content" / "plugins" / "wcsync-admin"
    if not target.exists():
        return
    for shop in shops:
        result = subprocess.run(
            ["php", str(RESET), str(shop.site), shop.base_url], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0 and result.stdout.strip() == "inactive", result.stdout + result.stderr
    shutil.rmtree(target)


def install_plugin(shops: list[StoreInfo]) -> None:
    """Copy the plugin into the network's plugins folder (one for every site)."""
    from tests.real.wordpress import PLUGIN

    remove_plugin(shops)
    shutil.copytree(PLUGIN, shops[0].site / "wp-content" / "plugins" / "wcsync-admin")


def network_root(shop: StoreInfo) -> str:
    return shop.base_url.rsplit("/", 1)[0]


async def sign_in(page: Page, shop: StoreInfo) -> None:
    """Sign in once on the network: its cookies hold for every sub-site (path /)."""
    await page.goto(f"{shop.base_url}/wp-login.php")
    await page.fill("#user_login", ADMIN_USER)
    await page.fill("#user_pass", ADMIN_PASSWORD)
    await page.click("#wp-submit")
    await page.wait_for_selector("#wpadminbar")


async def network_activate(page: Page, shop: StoreInfo) -> str:
    """Press Network Activate on the plugin's row of Network Admin > Plugins; returns the notice."""
    await page.goto(f"{network_root(shop)}/wp-admin/network/plugins.php")
    row = page.locator(f'tr[data-plugin="{PLUGIN_FILE}"]')
    activate = row.locator("a", has_text="Network Activate")
    if await activate.count() == 0:
        return (await row.inner_text()).strip()
    await activate.first.click()
    await page.wait_for_load_state()
    notices = await page.locator("#message, #wpbody-content .error").all_inner_texts()
    return " ".join(n.strip() for n in notices)


async def save_settings(page: Page, shop: StoreInfo, *, url: str, token: str) -> str:
    """Fill in the sub-site's WooCommerce > wcsync and save; returns the notices shown."""
    await page.goto(f"{shop.base_url}/wp-admin/admin.php?page=wcsync-admin")
    await page.fill("#wcsync_admin_url", url)
    await page.fill("#wcsync_admin_token", token)
    await page.fill("#wcsync_admin_store", shop.name)
    await page.locator("#submit").click()
    await page.wait_for_load_state()
    notices = await page.locator(".wcsync-admin-settings .notice").all_inner_texts()
    return " ".join(n.strip() for n in notices)


async def check_connection(page: Page) -> str:
    """Press Check the connection on the settings page shown; returns its result."""
    await page.evaluate(
        "() => { const el = document.getElementById('wcsync-admin-check-result');"
        " if (el) el.textContent = ''; }"
    )
    await page.get_by_role("button", name="Check the connection").click()
    await page.wait_for_function(
        "() => { const el = document.getElementById('wcsync-admin-check-result');"
        " return el && el.textContent.trim() && !el.textContent.includes('Checking'); }"
    )
    return (await page.locator("#wcsync-admin-check-result").inner_text()).strip()


def orders_list_url(shop: StoreInfo) -> str:
    path = "admin.php?page=wc-orders" if shop.hpos else "edit.php?post_type=shop_order"
    return f"{shop.base_url}/wp-admin/{path}"


def order_edit_url(shop: StoreInfo, order_id: int) -> str:
    if shop.hpos:
        return f"{shop.base_url}/wp-admin/admin.php?page=wc-orders&action=edit&id={order_id}"
    return f"{shop.base_url}/wp-admin/post.php?post={order_id}&action=edit"


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) == 2 else ""
    try:
        network = Network.from_env()
        if command == "up":
            for shop in up(network):
                print(f"{shop.name}: {shop.base_url} WooCommerce {shop.woocommerce} ({shop.storage})")
        elif command == "down":
            if network.dir.is_dir():
                stop(network)
        elif command == "status":
            print("running" if running(network) else "not running")
        elif command == "reset":
            reset(network)
        else:
            print("usage: python -m tests.real.multisite up|down|status|reset", file=sys.stderr)
            return 2
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
