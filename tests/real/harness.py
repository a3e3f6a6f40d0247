"""The project's real-store harness: real WordPress + WooCommerce stores on loopback for
`make test-real`, built by the kit in tests/real/realwc/ (realwc.sh).

Settings (environment variables):

* ``WCSYNC_REALWC_DIST``: the folder holding the WordPress and WooCommerce archives (required;
  nothing here downloads anything).
* ``WCSYNC_REALWC_DIR``: where the stores live (default ``/tmp/wcsync-realwc``).
* ``WCSYNC_REALWC_PORT_BASE``: the first of five loopback ports (default 29081: below Linux's
  ephemeral range, 32768-60999, where any outgoing connection may hold the port a store needs):
  the three stores, the HTTPS store's second server that drops the Authorization header, and the
  nginx proxy in front of wcsync (HTTPS, for webhooks).
* ``WCSYNC_REALWC_DB_PREFIX``: the MariaDB database prefix (default ``wcsync_real_``).

The stores are set up once and reused while their folder matches the settings; ``up`` starts
them and ``down`` stops them. ``python -m tests.real.harness check|up|down|reset`` runs the same
steps from the Makefile.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parent / "realwc" / "realwc.sh"
# The realistic shop's must-use plugins (a plugin's order statuses, an add-on's line meta, ...):
# every file here is copied into every store's wp-content/mu-plugins at `up`, so a store set up by
# an earlier run gets the current ones too.
MU_PLUGINS = Path(__file__).resolve().parent / "mu-plugins"
DEFAULT_DIR = "/tmp/wcsync-realwc"
DEFAULT_PORT_BASE = 29081
# A store whose server exits at start (a port taken a moment ago) is started again this many times.
START_ATTEMPTS = 3
DEFAULT_DB_PREFIX = "wcsync_real_"
# (name, WooCommerce line, storage): main is WooCommerce 7.8.2 on WordPress 6.1.9 with posts
# storage, sub1 the same versions on HPOS, sub2 WooCommerce 10.6.2 on WordPress 6.8.12 (HPOS).
# main and sub1 are PHP's built-in server over plain http; sub2 is served as most shops are: nginx
# and PHP-FPM over HTTPS, with a certificate from a local CA the kit makes (DIR/tls/ca.pem).
STORES = (("main", "7.8", "posts"), ("sub1", "7.8", "hpos"), ("sub2", "10.6", "hpos"))
HTTPS_STORE = "sub2"
# Ports after the stores': sub2's second nginx server, which drops the Authorization header before
# PHP (as some hosts do), and the nginx proxy in front of wcsync in the webhook tests.
STRIP_PORT_OFFSET = 3
PROXY_PORT_OFFSET = 4
# What a developer downloads from wordpress.org, and the names the kit's own archives have.
WORDPRESS = ("6.1.9", "6.8.12")
WOOCOMMERCE = ("7.8.2", "10.6.2")
WANTED = (
    "WordPress 6.1.9 and 6.8.12 (wordpress-6.1.9.tar.gz and wordpress-6.8.12.tar.gz from "
    "wordpress.org/download/releases/) and WooCommerce 7.8.2 and 10.6.2 (woocommerce.7.8.2.zip "
    "and woocommerce.10.6.2.zip from wordpress.org/plugins/woocommerce/advanced/)"
)


class HarnessError(RuntimeError):
    """The stores cannot be provided; the message says what to do."""


@dataclass(frozen=True)
class Config:
    dist: str
    dir: Path
    port_base: int
    db_prefix: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        port = env.get("WCSYNC_REALWC_PORT_BASE", "") or str(DEFAULT_PORT_BASE)
        if not port.isdigit() or not 1024 <= int(port) <= 65530:
            raise HarnessError(f"WCSYNC_REALWC_PORT_BASE={port!r} must be a port from 1024 to 65530")
        return cls(
            dist=env.get("WCSYNC_REALWC_DIST", ""),
            dir=Path(env.get("WCSYNC_REALWC_DIR", "") or DEFAULT_DIR),
            port_base=int(port),
            db_prefix=env.get("WCSYNC_REALWC_DB_PREFIX", "") or DEFAULT_DB_PREFIX,
        )

    def spec(self) -> str:
        """The store list in realwc.sh's form: name:port:line:storage[:https:STRIP_PORT] ..."""
        return " ".join(
            f"{name}:{self.port_base + i}:{line}:{storage}"
            + (f":https:{self.strip_port}" if name == HTTPS_STORE else "")
            for i, (name, line, storage) in enumerate(STORES)
        )

    @property
    def strip_port(self) -> int:
        return self.port_base + STRIP_PORT_OFFSET

    @property
    def proxy_port(self) -> int:
        return self.port_base + PROXY_PORT_OFFSET

    @property
    def ca_file(self) -> Path:
        """The local CA that signed the HTTPS store's certificate (made by realwc.sh setup)."""
        return self.dir / "tls" / "ca.pem"


def missing_archives(dist: str) -> str | None:
    """None when `dist` holds every archive, else the sentence saying what to provide."""
    if not dist:
        return (
            "make test-real needs real WordPress and WooCommerce: set WCSYNC_REALWC_DIST to a folder "
            f"holding {WANTED}."
        )
    folder = Path(dist)
    if not folder.is_dir():
        return f"WCSYNC_REALWC_DIST={dist} is not a folder; it must hold {WANTED}."
    lacking = [
        f"wordpress-{v}.tar.gz"
        for v in WORDPRESS
        if not any((folder / n).is_file() for n in (f"wpbase-{v}.tar.gz", f"wordpress-{v}.tar.gz"))
    ] + [
        f"woocommerce.{v}.zip"
        for v in WOOCOMMERCE
        if not any((folder / n).is_file() for n in (f"woocommerce-{v}.tar.gz", f"woocommerce.{v}.zip"))
    ]
    if lacking:
        return (
            f"WCSYNC_REALWC_DIST={dist} lacks {', '.join(lacking)}: download them from wordpress.org "
            f"(the folder must hold {WANTED})."
        )
    return None


@dataclass(frozen=True)
class StoreInfo:
    """One real store, as realwc.sh's stores.json describes it."""

    name: str
    base_url: str
    consumer_key: str
    consumer_secret: str
    hpos: bool
    woocommerce: str
    wordpress: str
    products: dict[str, int]
    site: Path
    # The local CA that signed an HTTPS store's certificate (None for a plain-http store).
    ca_file: Path | None = None

    @property
    def storage(self) -> str:
        return "hpos" if self.hpos else "posts"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def verify(self) -> ssl.SSLContext | bool:
        """What a test's HTTP client trusts for this store: the local CA over HTTPS."""
        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else True


def _kit(config: Config, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WCSYNC_REALWC_DIST=config.dist)
    command = [
        "bash",
        str(KIT),
        args[0],
        "--dir",
        str(config.dir),
        "--stores",
        config.spec(),
        "--db-prefix",
        config.db_prefix,
        *args[1:],
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise HarnessError(f"realwc.sh {args[0]} failed:\n{result.stdout}{result.stderr}")
    return result


def _saved_spec(config: Config) -> dict[str, str]:
    conf = config.dir / "realwc.conf"
    if not conf.is_file():
        return {}
    pairs = (line.split("=", 1) for line in conf.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def _is_set_up(config: Config) -> bool:
    saved = _saved_spec(config)
    return (
        saved.get("STORES") == config.spec()
        and saved.get("DB_PREFIX") == config.db_prefix
        and (config.dir / "stores.json").is_file()
        and all((config.dir / "sites" / name / "wp-config.php").is_file() for name, _, _ in STORES)
    )


def load(config: Config) -> list[StoreInfo]:
    """The stores of `config.dir` (set up, not necessarily running)."""
    entries: list[dict[str, Any]] = json.loads((config.dir / "stores.json").read_text())
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
            site=config.dir / "sites" / e["name"],
            ca_file=config.ca_file if str(e["base_url"]).startswith("https://") else None,
        )
        for e in entries
    ]


def install_mu_plugins(config: Config) -> None:
    """Copy tests/real/mu-plugins/*.php into every store (WordPress loads them on each request)."""
    for name, _, _ in STORES:
        target = config.dir / "sites" / name / "wp-content" / "mu-plugins"
        target.mkdir(parents=True, exist_ok=True)
        for plugin in sorted(MU_PLUGINS.glob("*.php")):
            shutil.copyfile(plugin, target / f"wcsync-test-{plugin.name}")


def up(config: Config) -> list[StoreInfo]:
    """Set the stores up (once: reused while they match the settings) and start them."""
    problem = missing_archives(config.dist)
    if problem:
        raise HarnessError(problem)
    if not _is_set_up(config):
        if _saved_spec(config):
            # Other stores, ports or prefix in this folder: start again from nothing.
            _kit(config, "reset")
        _kit(config, "setup", "--no-apt")
    install_mu_plugins(config)
    for attempt in range(1, START_ATTEMPTS + 1):
        # start launches only the servers not running, and stops at once when one exits.
        result = _kit(config, "start", check=attempt == START_ATTEMPTS)
        if result.returncode == 0:
            break
        print(f"realwc.sh start, attempt {attempt}: {result.stderr.strip()}; starting again", file=sys.stderr)
    return load(config)


def down(config: Config) -> None:
    """Stop the stores (their databases and files stay for the next run)."""
    if config.dir.is_dir():
        _kit(config, "stop", check=False)


def running(config: Config) -> bool:
    """Whether every store of `config.dir` is set up and answers now."""
    if not _is_set_up(config):
        return False
    return _kit(config, "status", check=False).returncode == 0


_session: list[StoreInfo] | None = None


def session_stores() -> list[StoreInfo]:
    """The stores for this test process. `make test-real` starts them before pytest and stops
    them after; a pytest started by hand starts them here and stops them when it exits."""
    global _session
    if _session is None:
        config = Config.from_env()
        if running(config):
            _session = load(config)
        else:
            _session = up(config)
            atexit.register(down, config)
    return _session


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) == 2 else ""
    try:
        config = Config.from_env()
        if command == "check":
            problem = missing_archives(config.dist)
            if problem:
                print(problem, file=sys.stderr)
                return 2
        elif command == "up":
            for store in up(config):
                print(f"{store.name}: {store.base_url} WooCommerce {store.woocommerce} ({store.storage})")
        elif command == "down":
            down(config)
        elif command == "reset":
            if config.dir.is_dir():
                _kit(config, "reset")
        else:
            print("usage: python -m tests.real.harness check|up|down|reset", file=sys.stderr)
            return 2
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
