from __future__ import annotations

from enum import StrEnum


class StoreRole(StrEnum):
    main = "main"
    sub = "sub"


class Routing(StrEnum):
    all = "all"
    skus = "skus"


class AuthMode(StrEnum):
    auto = "auto"
    basic = "basic"
    query = "query"
    oauth1 = "oauth1"


class Direction(StrEnum):
    main_to_sub = "main_to_sub"
    sub_to_main = "sub_to_main"

    @classmethod
    def out_of(cls, role: StoreRole) -> Direction:
        """The way an order placed on a store of `role` travels."""
        return cls.main_to_sub if role == StoreRole.main else cls.sub_to_main

    @classmethod
    def into(cls, role: StoreRole) -> Direction:
        """The way a copy held by a store of `role` came."""
        return cls.sub_to_main if role == StoreRole.main else cls.main_to_sub


class LinkState(StrEnum):
    pending = "pending"
    in_flight = "in_flight"
    synced = "synced"
    failed = "failed"


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    partial = "partial"
    failed = "failed"


class RunKind(StrEnum):
    scheduled = "scheduled"
    sync_now = "sync_now"
    order = "order"
    webhook = "webhook"
    discovery = "discovery"


class SyncMode(StrEnum):
    smart = "smart"
    full = "full"
