"""uvicorn's access log keeps no query string's values (issue 18: a refused `?token=` was
written to it in full)."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.config import LOGGING_CONFIG

from app import accesslog
from app.main import create_app
from tests.e2e.support import TOKEN, service_settings

SECRET = "tok_0123456789abcdefSECRET"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/pending", "/api/pending"),
        (f"/api/pending?token={SECRET}", "/api/pending?token=…"),
        (
            f"/api/stores?check=true&consumer_secret={SECRET}&signature=abc",
            "/api/stores?check=…&consumer_secret=…&signature=…",
        ),
    ],
)
def test_values_are_replaced_names_kept(path: str, logged: str) -> None:
    assert accesslog.redact_query(path) == logged


def test_empty_parts_are_dropped_and_bare_names_kept() -> None:
    assert accesslog.redact_query("/x?a=1&&b") == "/x?a=…&b=…"


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


def test_the_served_access_log_has_no_token(tmp_path: Path) -> None:
    logger = logging.getLogger(accesslog.ACCESS_LOGGER)
    before = list(logger.filters)
    out = io.StringIO()
    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "handlers": {
            **LOGGING_CONFIG["handlers"],
            "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": out},
        },
    }
    accesslog.install()
    app = create_app(service_settings(f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"))
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=config, access_log=True)
    )
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    try:
        thread.start()
        for _ in range(3000):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.02)
        assert server.started, "wcsync did not start"
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        refused = httpx.get(f"{url}/api/pending", params={"token": SECRET, "consumer_secret": SECRET})
        assert refused.status_code == 401
        ok = httpx.get(
            f"{url}/api/pending", params={"limit": "5"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code in (200, 422)
    finally:
        server.should_exit = True
        thread.join(30)
        logger.filters[:] = before
    text = out.getvalue()
    assert '"GET /api/pending?token=…&consumer_secret=… HTTP/1.1" 401' in text, text
    assert "/api/pending?limit=…" in text
    assert SECRET not in text


def test_wcsync_serve_installs_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app import cli
    from app.config import get_settings

    logger = logging.getLogger(accesslog.ACCESS_LOGGER)
    before = list(logger.filters)
    logger.filters[:] = [f for f in before if not isinstance(f, accesslog.RedactQueryStrings)]
    monkeypatch.setenv("WCSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", TOKEN)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    get_settings.cache_clear()
    try:
        cli.cmd_serve(argparse.Namespace(host="127.0.0.1", port=0))
        assert any(isinstance(f, accesslog.RedactQueryStrings) for f in logger.filters)
    finally:
        get_settings.cache_clear()
        logger.filters[:] = before
