"""Fixtures for the fake store's own tests: an in-process store and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.testing import DEMO_CATALOG, FakeStore

API = "/wp-json/wc/v3"


def make_store(name: str = "main", **kwargs: Any) -> FakeStore:
    kwargs.setdefault("catalog", DEMO_CATALOG)
    return FakeStore(name, **kwargs)


@pytest.fixture
async def store() -> AsyncIterator[FakeStore]:
    fake = make_store()
    yield fake
    await fake.aclose()


@pytest.fixture
async def client(store: FakeStore) -> AsyncIterator[httpx.AsyncClient]:
    async with store.client() as http:
        yield http
