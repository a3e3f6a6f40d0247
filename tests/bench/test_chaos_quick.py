"""A short run of the chaos suite (bench/chaos.py): one quick SQLite trial with its faults, kill -9
and clock skew must end with no duplicate, nothing lost and no violation; and the checker must
catch a planted duplicate, a planted lost order and a changed replica, or its zeros mean nothing."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _load_chaos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wcsync_bench_chaos", ROOT / "bench" / "chaos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


chaos = _load_chaos()


def _mark(order: dict[str, Any]) -> str | None:
    return next((m["value"] for m in order["meta_data"] if m["key"] == "_wcsync_origin"), None)


def _origin_status(snapshot: dict[str, list[dict[str, Any]]], mark: str) -> str | None:
    store, _, order_id = mark.partition(":")
    return next((o["status"] for o in snapshot[store] if o["id"] == int(order_id)), None)


async def test_a_quick_sqlite_trial_ends_exact_and_the_checker_catches_what_is_planted() -> None:
    result = await chaos.run_trial(chaos.TrialConfig(seed=4, db="sqlite", processes=1, quick=True))
    assert result.error is None, result.error
    assert (result.findings.duplicates, result.findings.lost, result.findings.violations) == (0, 0, [])
    assert result.kills == 1
    assert result.findings.replicas_checked > 0
    snapshot: dict[str, list[dict[str, Any]]] = result.snapshot
    clean = chaos.check_stores(snapshot, **result.ledger)
    assert clean.ok, clean

    # A planted duplicate: a second copy of one replica on its store.
    target, replica = next(
        (store, order)
        for store, orders in snapshot.items()
        for order in orders
        if _mark(order) and _origin_status(snapshot, str(_mark(order))) in chaos.REPLICATED
    )
    doubled = copy.deepcopy(snapshot)
    doubled[target].append({**copy.deepcopy(replica), "id": 999_999})
    found = chaos.check_stores(doubled, **result.ledger)
    assert (found.duplicates, found.lost) == (1, 0), found

    # A planted loss: that replica gone from its store.
    lost = copy.deepcopy(snapshot)
    lost[target] = [o for o in lost[target] if o["id"] != replica["id"]]
    found = chaos.check_stores(lost, **result.ledger)
    assert (found.duplicates, found.lost) == (0, 1), found

    # A replica that is not an exact copy, and a link still writing.
    changed = copy.deepcopy(snapshot)
    for order in changed[target]:
        if order["id"] == replica["id"]:
            order["billing"] = {**order["billing"], "city": "Elsewhere"}
    found = chaos.check_stores(changed, **{**result.ledger, "in_flight": 1})
    assert (found.duplicates, found.lost) == (0, 0)
    assert any("billing.city" in v for v in found.violations), found.violations
    assert any("in flight" in v for v in found.violations), found.violations

    # An origin whose status is not the one it was given on its own store (a status sent back).
    (store, order_id), status = next(iter(result.ledger["origin_statuses"].items()))
    moved = copy.deepcopy(snapshot)
    for order in moved[store]:
        if order["id"] == order_id:
            order["status"] = "cancelled" if status != "cancelled" else "completed"
    found = chaos.check_stores(moved, **result.ledger)
    assert any(f"{store}:{order_id}: the origin's status" in v for v in found.violations), found.violations
