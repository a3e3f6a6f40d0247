from app.models.enums import (
    AuthMode,
    Direction,
    LinkState,
    Routing,
    RunKind,
    RunStatus,
    StoreRole,
    SyncMode,
)
from app.models.tables import Cursor, Event, Link, Product, Run, SourceOrder, Store, utcnow

__all__ = [
    "AuthMode",
    "Cursor",
    "Direction",
    "Event",
    "Link",
    "LinkState",
    "Product",
    "Routing",
    "Run",
    "RunKind",
    "RunStatus",
    "SourceOrder",
    "Store",
    "StoreRole",
    "SyncMode",
    "utcnow",
]
