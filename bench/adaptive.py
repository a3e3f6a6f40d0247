"""Adaptive pace benchmark: the same wcsync defaults against two hosts.

- **small**: docs/woocommerce-performance.md's measured store: 90 ms per request + 130 ms per
  order written, 2 requests served at once (the rest queue: at 4 in flight a request takes twice
  as long, the knee);
- **big**: a bigger host modelled with the fake store's knobs: 60 ms + 40 ms per order, 8 at
  once (knee at 16).

Each run replicates `--orders` main orders to `--subs` sub-stores in one Sync Now pass (as
bench/replicate.py does) and prints the pace's moves per sub-store, the most requests it had in
flight, and wall / the model's least time at the host's concurrency. The goals: on the small
host the pace never reaches its knee; on the big one it climbs to use it (least / wall >= 0.9
and at least the host's concurrency reached). With `--warm` the same process then copies as many
new orders again: the pace as the first pass left it (kept per store for the process's life),
which is what every busy pass after a process's first sees; the big host's verdict is then the
warm pass's. Also run with `--fixed` for the old fixed pace (2 at a time, batch 25) on both, for
comparison.

The model's least time reads the whole listing before the first write; wcsync writes while it
reads, so a pass can beat it (a ratio above 1). The time of the writes alone is printed beside it:
no pass can beat that one.

    .venv/bin/python bench/adaptive.py                      # 1,000 orders, 1 sub-store, both hosts
    .venv/bin/python bench/adaptive.py --orders 300 --scale 0.5   # quicker
    .venv/bin/python bench/adaptive.py --orders 4000 --hosts big --warm   # the big host's goal
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.replicate import BenchError, build_parser, code_version, measure, model_and_settings  # noqa: E402

HOSTS = {
    "small": {"latency_base_ms": 90.0, "latency_per_order_ms": 130.0, "concurrency": 2},
    "big": {"latency_base_ms": 60.0, "latency_per_order_ms": 40.0, "concurrency": 8},
}


async def one(host: str, orders: int, subs: int, scale: float, fixed: bool, warm: bool) -> dict[str, Any]:
    knobs = HOSTS[host]
    argv = [
        "--orders",
        str(orders),
        "--subs",
        str(subs),
        "--scale",
        str(scale),
        "--concurrency",
        str(knobs["concurrency"]),
        "--latency-base-ms",
        str(knobs["latency_base_ms"]),
        "--latency-per-order-ms",
        str(knobs["latency_per_order_ms"]),
        "--no-origin-note",
    ]
    if warm:
        argv.append("--warm-pass")
    if fixed:
        argv += ["--fixed-pace", "--concurrency", "2", "--batch-size", "25"]
    args = build_parser().parse_args(argv)
    if fixed:
        args.concurrency = knobs["concurrency"]  # the host's; wcsync keeps to 2
    model, settings_values = model_and_settings(args)
    if fixed:
        settings_values["store_max_concurrency"] = 2
    m = await measure(args, model, settings_values)
    peak = max((limit for h in m.paces.values() for _, limit, _, _ in h), default=0)
    if m.warm is not None:
        peak = max([peak, *(limit for h in m.warm_paces.values() for _, limit, _, _ in h)])
    return {
        "host": host,
        "pace": "fixed 2 x 25" if fixed else "adaptive",
        "orders": orders,
        "subs": subs,
        "host_concurrency": knobs["concurrency"],
        "knee": 2 * knobs["concurrency"],
        "wall_s": round(m.first.wall_seconds, 2),
        "least_s": round(m.least.seconds, 2),
        "least_over_wall": round(m.least.seconds / m.first.wall_seconds, 3),
        # The model's least time reads the whole listing before the first write; wcsync writes
        # while it reads, so a pass can beat it. The writes alone are a bound no pass can beat.
        "writes_least_s": round(m.least.sub_seconds, 2),
        "writes_least_over_wall": round(m.least.sub_seconds / m.first.wall_seconds, 3),
        "replicas_per_s": round(m.first.run.created / m.first.wall_seconds, 2),
        "peak_requests_at_once": peak,
        "verified": m.verified,
        "warm_wall_s": round(m.warm.wall_seconds, 2) if m.warm else None,
        "warm_least_over_wall": round(m.least.seconds / m.warm.wall_seconds, 3) if m.warm else None,
        "warm_writes_least_over_wall": round(m.least.sub_seconds / m.warm.wall_seconds, 3)
        if m.warm
        else None,
        "warm_moves": {
            name: [f"{at - m.warm.started:+.1f}s {limit}x{batch} {why}" for at, limit, batch, why in history]
            for name, history in m.warm_paces.items()
        }
        if m.warm
        else {},
        # Each move with its time after the pass began (monotonic clocks, same process).
        "moves": {
            name: [f"{at - m.first.started:+.1f}s {limit}x{batch} {why}" for at, limit, batch, why in history]
            for name, history in m.paces.items()
        },
    }


async def run(args: argparse.Namespace) -> int:
    code = code_version()
    results = []
    for host in args.hosts:
        for fixed in (False, True) if args.fixed else (False,):
            result = await one(host, args.orders, args.subs, args.scale, fixed, args.warm)
            results.append(result)
            print(f"\n== {host} host, {result['pace']} pace: {json.dumps(result['moves'])}")
            if result["warm_moves"]:
                print(f"   warm pass: {json.dumps(result['warm_moves'])}")
    ok = True
    print(
        f"\n== adaptive pace, {args.orders} orders -> {args.subs} sub-store(s),"
        f" scale {args.scale:g}, code {code}"
    )
    print(
        f"  {'host':<6} {'pace':<13} {'wall s':>7} {'least s':>8} {'least/wall':>10} {'replicas/s':>10}"
        f" {'peak at once':>12} {'warm l/w':>8}  verdict"
    )
    for r in results:
        if r["pace"] == "adaptive":
            if r["host"] == "small":
                met = r["peak_requests_at_once"] < r["knee"]
                goal = f"never at the knee ({r['knee']})"
            else:
                # Used fully once the pace has found the host: the warm pass when there is one
                # (the first pass of a process climbs 2 -> 8 while it runs).
                used = (
                    r["warm_least_over_wall"]
                    if r["warm_least_over_wall"] is not None
                    else r["least_over_wall"]
                )
                which = "warm pass" if r["warm_least_over_wall"] is not None else "first pass"
                met = used >= 0.9 and r["peak_requests_at_once"] >= r["host_concurrency"]
                goal = f"uses it: >= {r['host_concurrency']} at once, {which} least/wall >= 0.9"
            ok = ok and met and r["verified"]
            verdict = f"{'met' if met else 'MISSED'} ({goal})"
        else:
            verdict = "(for comparison)"
        warm = r["warm_least_over_wall"] if r["warm_least_over_wall"] is not None else "-"
        print(
            f"  {r['host']:<6} {r['pace']:<13} {r['wall_s']:>7.1f} {r['least_s']:>8.1f}"
            f" {r['least_over_wall']:>10.2f}"
            f" {r['replicas_per_s']:>10.2f} {r['peak_requests_at_once']:>12}"
            f" {warm:>8}  {verdict}"
        )
        warm_writes = (
            r["warm_writes_least_over_wall"] if r["warm_writes_least_over_wall"] is not None else "-"
        )
        print(
            f"  {'':<6} {'':<13} the writes alone (no pass can beat it): {r['writes_least_s']:.1f} s;"
            f" over wall: first pass {r['writes_least_over_wall']:.2f}, warm pass {warm_writes}"
        )
    print(json.dumps({"code": code, "results": results}))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/adaptive.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--hosts", nargs="+", choices=sorted(HOSTS), default=["small", "big"])
    parser.add_argument("--fixed", action="store_true", help="also run the old fixed pace (2 x 25)")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="then copy as many new orders again in the same process: a later busy pass, the pace remembered",
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench/adaptive.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
