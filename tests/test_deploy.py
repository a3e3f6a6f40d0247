"""What `deploy/` ships starts as its comments say (issue 18: the env example had a 20-character
token and no key setting, so the key file depended on the working directory)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "systemd"


def _without_wcsync_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WCSYNC_"):
            monkeypatch.delenv(name)


def _filled_in(example: str) -> str:
    """The example with each CHANGE-ME replaced the way its comments say."""
    command = re.search(r"^#\s+(python3 -c .+)$", example, re.MULTILINE)
    assert command, "the example says how to make a token"
    token = subprocess.run(shlex.split(command.group(1)), capture_output=True, text=True, check=True).stdout
    filled = example.replace("CHANGE-ME-TOKEN", token.strip()).replace("CHANGE-ME-PASSWORD", "s3cret")
    assert not re.search(r"^[A-Z_]+=.*CHANGE-ME", filled, re.MULTILINE)
    return filled


def test_the_env_example_filled_in_as_it_says_is_valid_and_its_key_file_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_wcsync_environment(monkeypatch)
    env = tmp_path / "env"
    env.write_text(_filled_in((DEPLOY / "wcsync.env.example").read_text()))
    monkeypatch.chdir(tmp_path)  # the key file must not depend on where wcsync starts
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.database_url.startswith("postgresql+asyncpg://wcsync:s3cret@")
    key_file = settings.resolved_secret_key_file()
    assert key_file.is_absolute() and not key_file.is_relative_to(tmp_path), key_file

    # The unit gives the wcsync user that folder.
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "wcsync.service")
    state = unit["Service"]["StateDirectory"]
    assert key_file.parent == Path("/var/lib") / state


def test_the_env_example_left_as_is_is_refused_with_the_token_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_wcsync_environment(monkeypatch)
    env = tmp_path / "env"
    env.write_text((DEPLOY / "wcsync.env.example").read_text())
    with pytest.raises(ValidationError, match="WCSYNC_ADMIN_TOKEN is .* characters long"):
        Settings(_env_file=env)  # type: ignore[call-arg]


def test_make_plugin_zip_ships_the_plugin_folder_with_its_main_file(tmp_path: Path) -> None:
    plugin = ROOT / "deploy" / "wordpress" / "wcsync-admin"
    header = (plugin / "wcsync-admin.php").read_text()
    version = re.search(r"^ \* Version:\s*(\S+)", header, re.MULTILINE)
    assert version
    done = subprocess.run(
        ["make", "-s", "plugin-zip", f"PLUGIN_DIST={tmp_path}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    zipped = tmp_path / f"wcsync-admin-{version.group(1)}.zip"
    assert done.stdout.strip() == str(zipped)
    with zipfile.ZipFile(zipped) as archive:
        names = {n for n in archive.namelist() if not n.endswith("/")}
        # WordPress installs the zip's top folder as the plugin: wcsync-admin/wcsync-admin.php.
        main = archive.read("wcsync-admin/wcsync-admin.php").decode()
    assert "Plugin Name:       wcsync Admin" in main and main == header
    shipped = {f"wcsync-admin/{p.relative_to(plugin)}" for p in plugin.rglob("*") if p.is_file()}
    assert names == shipped
