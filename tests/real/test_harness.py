"""The real-store harness's own checks. These need no store and no archive: they run in
`make test` and make sure `make test-real` stops at once, in plain words, when it cannot run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.real.harness import (
    DEFAULT_DB_PREFIX,
    DEFAULT_PORT_BASE,
    Config,
    HarnessError,
    missing_archives,
)

ROOT = Path(__file__).resolve().parents[2]
KIT_NAMES = (
    "wpbase-6.1.9.tar.gz",
    "wpbase-6.8.12.tar.gz",
    "woocommerce-7.8.2.tar.gz",
    "woocommerce-10.6.2.tar.gz",
)
WORDPRESS_ORG_NAMES = (
    "wordpress-6.1.9.tar.gz",
    "wordpress-6.8.12.tar.gz",
    "woocommerce.7.8.2.zip",
    "woocommerce.10.6.2.zip",
)


def folder_with(tmp_path: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_without_the_setting_the_sentence_says_what_to_provide() -> None:
    problem = missing_archives("")
    assert problem is not None
    assert problem.startswith("make test-real needs real WordPress and WooCommerce: set WCSYNC_REALWC_DIST")
    for name in WORDPRESS_ORG_NAMES:
        assert name in problem
    assert "wordpress.org" in problem


def test_a_folder_missing_an_archive_names_it(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, KIT_NAMES[:3])
    problem = missing_archives(str(folder))
    assert problem is not None
    assert problem.startswith(f"WCSYNC_REALWC_DIST={folder} lacks woocommerce.10.6.2.zip:")
    assert "wordpress-6.1.9" not in problem.split(":")[0]


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    problem = missing_archives(str(tmp_path / "nowhere"))
    assert problem is not None and "is not a folder" in problem


@pytest.mark.parametrize("names", [KIT_NAMES, WORDPRESS_ORG_NAMES], ids=["kit", "wordpress.org"])
def test_either_naming_of_the_archives_is_enough(tmp_path: Path, names: tuple[str, ...]) -> None:
    assert missing_archives(str(folder_with(tmp_path, names))) is None


def test_defaults_and_the_store_list() -> None:
    config = Config.from_env({})
    assert (config.dir, config.port_base, config.db_prefix) == (
        Path("/tmp/wcsync-realwc"),
        DEFAULT_PORT_BASE,
        DEFAULT_DB_PREFIX,
    )
    # main: 7.8.2 posts; sub1: 7.8.2 HPOS; sub2: 10.6.2 HPOS over HTTPS (nginx + PHP-FPM, its
    # Authorization-dropping twin on the 4th port), on consecutive ports; the 5th is wcsync's proxy.
    config = Config.from_env({"WCSYNC_REALWC_PORT_BASE": "18091"})
    assert config.spec() == "main:18091:7.8:posts sub1:18092:7.8:hpos sub2:18093:10.6:hpos:https:18094"
    assert config.proxy_port == 18095


@pytest.mark.parametrize("port", ["80", "http", "65531"])
def test_a_bad_port_base_is_refused(port: str) -> None:
    with pytest.raises(HarnessError, match="WCSYNC_REALWC_PORT_BASE"):
        Config.from_env({"WCSYNC_REALWC_PORT_BASE": port})


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_real_stops_at_once_without_the_archives(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WCSYNC_REALWC_")}
    env["WCSYNC_REALWC_DIR"] = str(tmp_path / "stores")
    # -o: the virtualenv is taken as up to date (this test runs inside it).
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed-dev", f"BIN={Path(sys.executable).parent}", "test-real"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "set WCSYNC_REALWC_DIST to a folder holding WordPress 6.1.9 and 6.8.12" in result.stderr
    assert not (tmp_path / "stores").exists(), "nothing may be set up without the archives"


def test_the_default_ports_are_below_the_ephemeral_range() -> None:
    # An outgoing connection can take any port of the ephemeral range as its source; php -S then
    # fails to listen there ("Address already in use"), which once failed CI's make test-real.
    range_file = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(range_file.read_text().split()[0]) if range_file.is_file() else 32768
    assert Config.from_env({}).proxy_port < low


def test_the_kit_stops_waiting_at_once_when_a_store_server_has_exited(tmp_path: Path) -> None:
    # A server that could not listen: its pid is gone and its log says why. The kit must say so at
    # once (the harness then starts it again) instead of waiting out its three minutes.
    run, logs = tmp_path / "run", tmp_path / "logs"
    run.mkdir()
    logs.mkdir()
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (run / "sub1.pid").write_text(exited.stdout)
    (logs / "sub1-server.log").write_text(
        "[Mon Nov 30 08:41:41 2026] Failed to listen on 127.0.0.1:29082 (reason: Address already in use)\n"
    )
    stores = tmp_path / "stores.json"
    # Port 9 (discard) on loopback: nothing answers there.
    stores.write_text(
        '[{"name": "sub1", "base_url": "http://127.0.0.1:9", "consumer_key": "ck", "consumer_secret": "cs"}]'
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests/real/realwc/scripts/kit.py"),
            "wait",
            str(stores),
            "--timeout",
            "60",
            "--run-dir",
            str(run),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "NOT READY: sub1 (server exited:" in result.stderr
    assert "Address already in use" in result.stderr
