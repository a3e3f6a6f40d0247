"""The `wcsync` command line against a wcsync served on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import cli, config
from tests.e2e.support import TOKEN, make_fake, stack


def run(*argv: str) -> int:
    return cli.main(list(argv))


async def test_options_work_before_and_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WCSYNC_ADMIN_TOKEN", raising=False)
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", {}) as s:
        url = str(s.api.base_url)
        assert await asyncio.to_thread(run, "--url", url, "--token", TOKEN, "status") == 0
        assert "pending: 0" in capsys.readouterr().out
        # After the command, an option wins over the same one before it.
        code = await asyncio.to_thread(
            run, "--token", "wrong-token-000000000000", "status", "--url", url, "--token", TOKEN
        )
        assert code == 0
        assert (
            await asyncio.to_thread(run, "--url", url, "status", "--token", "wrong-token-000000000000") == 2
        )
        assert "401" in capsys.readouterr().err


async def test_a_token_that_starts_with_a_dash_works_after_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WCSYNC_ADMIN_TOKEN", raising=False)
    dashed = "-FnX" + "a" * 28  # token_urlsafe gives such tokens (1 in 64)
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", {}, admin_token=dashed) as s:
        url = str(s.api.base_url)
        assert await asyncio.to_thread(run, "--url", url, "--token", dashed, "status") == 0
        assert await asyncio.to_thread(run, "status", "--url", url, "--token", dashed) == 0
        assert await asyncio.to_thread(run, "status", "--url", url, f"--token={dashed}") == 0
        assert "pending: 0" in capsys.readouterr().out
    # A missing value is still refused, not read as the next option.
    with pytest.raises(SystemExit):
        run("status", "--token", "--url", url)


def test_generated_admin_tokens_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-starts-with-a-dash-000000000000", "fine-token-0000000000000000000000"])
    monkeypatch.setattr(config.secrets, "token_urlsafe", lambda n: next(draws))
    assert config.new_admin_token() == "fine-token-0000000000000000000000"


async def test_store_add_refuses_a_store_that_fails_its_check_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("WCSYNC_STORE_SECRET", "cs_typo_0123456789")
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", {}) as s:
        url = str(s.api.base_url)
        add = (
            "store",
            "add",
            "typo",
            "--role",
            "sub",
            "--base-url",
            "http://127.0.0.1:9",
            "--consumer-key",
            "ck_x",
        )
        assert await asyncio.to_thread(run, *add, "--url", url) == 1
        out = capsys.readouterr()
        assert "FAIL reachable" in out.out and "Cannot reach the store" in out.out
        assert "was not added" in out.err and "--force" in out.err
        assert (await s.api.get("/api/stores")).json() == []
        assert await asyncio.to_thread(run, *add, "--force", "--url", url) == 0
        assert "added sub store typo" in capsys.readouterr().out
        assert [st["name"] for st in (await s.api.get("/api/stores")).json()] == ["typo"]


async def test_store_add_keeps_what_a_passing_check_learned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake("sub1")
    monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("WCSYNC_STORE_SECRET", fake.consumer_secret)
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", {"sub1": fake}) as s:
        argv = ["store", "add", "sub1", "--role", "sub", "--base-url", s.urls["sub1"]]
        argv += ["--consumer-key", fake.consumer_key, "--auth-mode", "basic", "--url", str(s.api.base_url)]
        assert await asyncio.to_thread(run, *argv) == 0
        store = (await s.api.get("/api/stores/sub1")).json()
        assert store["last_success_at"] is not None and store["clock_skew_seconds"] is not None


async def test_token_create_list_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", {}) as s:
        url = str(s.api.base_url)
        await s.api.post(
            "/api/stores",
            json={
                "name": "sub1",
                "role": "sub",
                "base_url": "https://sub1.test",
                "consumer_key": "k",
                "consumer_secret": "s",
            },
        )
        assert (
            await asyncio.to_thread(
                run, "token", "create", "--store", "sub1", "--label", "shop", "--url", url
            )
            == 0
        )
        out = capsys.readouterr().out
        raw = next(line for line in out.splitlines() if line.startswith("wcst_"))
        assert (
            await s.api.get("/api/pending", headers={"Authorization": f"Bearer {raw}"})
        ).status_code == 200
        assert await asyncio.to_thread(run, "token", "list", "--url", url) == 0
        listed = capsys.readouterr().out
        assert "sub1" in listed and "shop" in listed and raw[:11] in listed and raw not in listed
        assert await asyncio.to_thread(run, "token", "revoke", "1", "--url", url) == 0
        assert (
            await s.api.get("/api/pending", headers={"Authorization": f"Bearer {raw}"})
        ).status_code == 401
        assert await asyncio.to_thread(run, "token", "revoke", "1", "--url", url) == 2
        assert "No store token with id 1" in capsys.readouterr().err


def test_times_are_local_and_to_the_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert cli.when("2026-11-24T00:46:59.925571Z") == "2026-11-24 09:46:59"
        assert cli.when(None) == ""
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_secrets_rotate_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("WCSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WCSYNC_SECRET_KEY", "")
    get_settings.cache_clear()

    async def migrate() -> None:
        from app.crypto import Keyring
        from app.db import create_engine
        from app.migrate import upgrade_to_head

        engine = create_engine(get_settings().database_url, keyring=Keyring.from_settings(get_settings()))
        await upgrade_to_head(engine)
        await engine.dispose()

    try:
        asyncio.run(migrate())
        before = (tmp_path / "wcsync.key").read_text()
        assert run("secrets", "rotate") == 0
    finally:
        get_settings.cache_clear()
    assert "re-encrypted 0 secret values" in capsys.readouterr().out
    assert (tmp_path / "wcsync.key").read_text() != before


def test_fake_store_help_names_its_command_and_says_what_every_flag_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In a process of its own: run in-process, argparse's help upsets a later schemathesis state
    # machine in the same worker (FlakyStrategyDefinition; not understood).
    shown = subprocess.run(
        [sys.executable, "-m", "app.cli", "fake-store", "--help"], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: wcsync fake-store ")
    from app.testing.server import build_parser

    undescribed = [
        action.option_strings[-1]
        for action in build_parser()._actions
        if action.option_strings and not (action.help or "").strip()
    ]
    assert undescribed == []
    # A text knob takes text (--extra-statuses was parsed as a number).
    args = build_parser().parse_args(["--name", "x", "--extra-statuses", "shipped=Shipped"])
    assert args.extra_statuses == "shipped=Shipped"


async def test_failed_sync_order_store_edit_and_a_readable_store_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = {"main": make_fake("main"), "sub1": make_fake("sub1", {"SKU-MUG-001"})}
    hoodie = fakes["main"].place_order([("SKU-HOODIE-L", 1)])  # sub1 does not sell it
    monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", fakes) as s:
        url = ("--url", str(s.api.base_url))
        await s.add_store("main", role="main")
        await s.add_store("sub1")
        await s.sync()

        assert await asyncio.to_thread(run, "store", "list", *url) == 0
        listed = capsys.readouterr().out
        assert "True" not in listed and "enabled" in listed.splitlines()[2], listed

        assert await asyncio.to_thread(run, "failed", *url) == 0
        out = capsys.readouterr().out
        row = next(line for line in out.splitlines() if f"main #{hoodie['id']}" in line)
        assert "sub1" in row and "Ada Lovelace" in row and "SKU-HOODIE-L" in row, out
        assert "wcsync sync-order STORE ORDER_ID" in out

        # Still failing: said, and a non-zero status.
        assert await asyncio.to_thread(run, "sync-order", "main", str(hoodie["id"]), *url) == 1
        assert "failed" in capsys.readouterr().out
        fakes["sub1"].add_product("SKU-HOODIE-L", "Hoodie (L)", "39.00")
        assert await asyncio.to_thread(run, "sync-order", "main", str(hoodie["id"]), *url) == 0
        out = capsys.readouterr().out
        assert f"order main #{hoodie['id']} (Ada Lovelace" in out and "synced" in out, out
        s.exact("main", hoodie["id"], "sub1")
        assert await asyncio.to_thread(run, "failed", *url) == 0
        assert "No failed orders" in capsys.readouterr().out

        # store edit: the same change as the dashboard's Edit, secrets never printed.
        code = await asyncio.to_thread(
            run, "store", "edit", "sub1", "--routing", "skus", "--consumer-secret", "cs_new_0123456789", *url
        )
        assert code == 0
        out = capsys.readouterr().out
        assert "saved store sub1: consumer_secret (changed), routing skus" in out and "cs_new" not in out
        assert (await s.api.get("/api/stores/sub1")).json()["routing"] == "skus"
        assert await asyncio.to_thread(run, "store", "edit", "sub1", "--disable", *url) == 0
        assert (await s.api.get("/api/stores/sub1")).json()["enabled"] is False
        assert await asyncio.to_thread(run, "store", "edit", "sub1", *url) == 2
        assert "Nothing to change" in capsys.readouterr().err
