"""Helpers for the WooCommerce client tests: recorded exchanges, a client on a sub-path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.woocommerce.client import WooCommerceClient

RECORDED = Path(__file__).resolve().parent / "recorded"
STORAGES = ("posts", "hpos")

BASE_URL = "https://shop.example.test/shop2"
API = f"{BASE_URL}/wp-json/wc/v3"
HOST = "shop.example.test"
# Deliberately not ck_/cs_-shaped: redaction must also catch the store's own literal values.
KEY = "ck_fake_key_for_tests"
SECRET = "cs_fake_secret_for_tests"


def load_case(storage: str, case: str) -> dict[str, Any]:
    """The recorded exchange whose file name starts with ``case`` (e.g. ``"23-"``)."""
    matches = sorted((RECORDED / storage).glob(f"{case}*.json"))
    assert len(matches) == 1, f"expected one recording for {storage}/{case}, got {matches}"
    data: dict[str, Any] = json.loads(matches[0].read_text())
    return data


def recorded_response(case: dict[str, Any], **extra_headers: str) -> httpx.Response:
    """The recorded response as an httpx.Response (status, kept headers, body)."""
    recorded = case["response"]
    body = recorded["body"]
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {**recorded["headers"], **extra_headers}
    return httpx.Response(recorded["status"], headers=headers, content=content)


def api_path(path: str) -> str:
    """Path on the test host for a path under /wp-json/wc/v3."""
    return f"/shop2/wp-json/wc/v3{path}"


@pytest.fixture
async def client() -> AsyncIterator[WooCommerceClient]:
    async with WooCommerceClient(BASE_URL, KEY, SECRET, store_name="sub1") as wc:
        yield wc
