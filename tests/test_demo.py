"""`make demo`'s stores are set up the way a store owner would: sub-stores routed by SKU, the
main store taking every order (issue 15, 3: the demo routed the main store by SKU too)."""

from __future__ import annotations

from app.demo import build_fake_stores, store_bodies
from app.models import Routing, StoreRole
from app.sync.stores import NewStore


def test_the_demo_adds_stores_the_api_accepts_and_its_main_store_takes_every_order() -> None:
    urls = {name: f"http://127.0.0.1:{9101 + i}" for i, name in enumerate(build_fake_stores())}
    bodies = store_bodies(urls, "2026-01-01T00:00:00+00:00")
    assert [b["name"] for b in bodies] == list(urls)
    stores = [NewStore(**body) for body in bodies]  # refused (InvalidRequest) if not valid
    routing = {s.name: (s.role, s.routing) for s in stores}
    assert routing["main"] == (StoreRole.main, Routing.all)
    assert all(r == Routing.skus for role, r in routing.values() if role == StoreRole.sub)
