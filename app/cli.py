"""`wcsync` commands. Everything but `serve`, `demo`, `fake-store`, `secrets` and `ledger` talks to a
running service over its HTTP API (WCSYNC_URL, WCSYNC_ADMIN_TOKEN)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from app.errors import WcsyncError

DEFAULT_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    def __init__(self, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.body = body

    @property
    def code(self) -> str | None:
        try:
            return str(self.body["error"]["code"])
        except (KeyError, TypeError):
            return None


def _api(args: argparse.Namespace) -> httpx.Client:
    token = args.token or os.environ.get("WCSYNC_ADMIN_TOKEN", "")
    if not token:
        raise CliError("No admin token: pass --token or set WCSYNC_ADMIN_TOKEN.")
    return httpx.Client(
        base_url=args.url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=60.0
    )


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise CliError(f"Cannot reach wcsync at {client.base_url}: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        body: Any = None
        try:
            body = response.json()
            message = body["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise CliError(f"{response.status_code}: {message}", body)
    return response.json() if response.content else None


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def when(value: str | None) -> str:
    """An API time (ISO 8601, UTC) as people read it: local time, to the second."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def progress_bar(done: int, total: int, width: int = 30) -> str:
    # Nothing to do is not "all done": an empty bar until there is a total.
    fraction = 0.0 if total <= 0 else min(done / total, 1.0)
    filled = int(round(fraction * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def _follow(client: httpx.Client, run_id: int) -> dict[str, Any]:
    """Poll a run until it ends, drawing a progress bar on stderr."""
    tty = sys.stderr.isatty()
    last = ""
    while True:
        run: dict[str, Any] = _call(client, "GET", f"/api/runs/{run_id}")
        line = f"run {run_id} {run['status']:<9} " + progress_bar(
            run["progress"]["done"], run["progress"]["total"]
        )
        if line != last:
            sys.stderr.write(("\r" + line) if tty else (line + "\n"))
            sys.stderr.flush()
            last = line
        if run["status"] not in ("queued", "running"):
            if tty:
                sys.stderr.write("\n")
            return run
        time.sleep(0.5)


def cmd_sync(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"direction": args.direction}
    if args.store:
        body["store"] = args.store
    if args.full:
        body["mode"] = "full"
    if args.since:
        body["since"] = args.since
    with _api(args) as client:
        accepted = _call(client, "POST", "/api/sync", json=body)
        print(f"run {accepted['run_id']} {'started' if accepted['new'] else 'already running'}")
        if not args.wait:
            return 0
        run = _follow(client, accepted["run_id"])
    counts = run["counts"]
    print(
        f"{run['status']}: created {counts['created']}, updated {counts['updated']}, "
        f"skipped {counts['skipped']}, failed {counts['failed']}"
    )
    for kind, count in sorted((run.get("drift") or {}).items()):
        print(f"  drift: {kind}: {count}")
    for error in run["errors"]:
        print(f"  error: {error['message']}")
    return 0 if run["status"] == "succeeded" else 1


def cmd_status(args: argparse.Namespace) -> int:
    with _api(args) as client:
        pending = _call(client, "GET", "/api/pending")
        runs = _call(client, "GET", "/api/runs", params={"limit": 5})
    rows = [("main_to_sub", store, n) for store, n in sorted(pending["main_to_sub"].items())]
    rows += [("sub_to_main", store, n) for store, n in sorted(pending["sub_to_main"].items())]
    print(f"pending: {pending['total']}   failed: {pending['failed']}")
    if rows:
        print(_table(rows, ["direction", "sub-store", "pending"]))
    print()
    print(
        _table(
            [
                (
                    r["id"],
                    r["kind"],
                    r["direction"],
                    r["status"],
                    f"{r['progress']['done']}/{r['progress']['total']}",
                    r["counts"]["created"],
                    r["counts"]["failed"],
                    when(r["started_at"]),
                )
                for r in runs
            ],
            ["run", "kind", "direction", "status", "progress", "created", "failed", "started"],
        )
    )
    return 0


def cmd_store(args: argparse.Namespace) -> int:
    with _api(args) as client:
        if args.store_command == "add":
            secret = args.consumer_secret or os.environ.get("WCSYNC_STORE_SECRET", "")
            if not secret:
                raise CliError("Pass --consumer-secret or set WCSYNC_STORE_SECRET.")
            body: dict[str, Any] = {
                "name": args.name,
                "role": args.role,
                "base_url": args.base_url,
                "consumer_key": args.consumer_key,
                "consumer_secret": secret,
                "routing": args.routing,
                "auth_mode": args.auth_mode,
            }
            if args.backfill_since:
                body["backfill_since"] = args.backfill_since
            if args.full_sync:
                body["full_sync"] = True
            try:
                store = _call(
                    client, "POST", "/api/stores", json=body, params={"check": str(not args.force).lower()}
                )
            except CliError as exc:
                if exc.code != "store_check_failed":
                    raise
                for item in exc.body["error"].get("checks") or []:
                    print(f"{'ok  ' if item['ok'] else 'FAIL'} {item['name']:<10} {item['detail']}")
                print(
                    f"Store {args.name} was not added: its check failed. Fix what FAIL says, or add it "
                    "anyway with --force.",
                    file=sys.stderr,
                )
                return 1
            print(f"added {store['role']} store {store['name']} at {store['base_url']}")
            if store.get("full_sync_run_id"):
                print(
                    f"full sync started: run {store['full_sync_run_id']} (wcsync status shows its progress)"
                )
        elif args.store_command == "list":
            stores = _call(client, "GET", "/api/stores")
            print(
                _table(
                    [
                        (
                            s["name"],
                            s["role"],
                            s["base_url"],
                            s["routing"],
                            "enabled" if s["enabled"] else "disabled",
                            s["last_error"] or "",
                        )
                        for s in stores
                    ],
                    ["name", "role", "base_url", "routing", "state", "last error"],
                )
            )
        elif args.store_command == "check":
            check = _call(client, "POST", f"/api/stores/{args.name}/check")
            for item in check["checks"]:
                print(f"{'ok  ' if item['ok'] else 'FAIL'} {item['name']:<10} {item['detail']}")
            return 0 if check["ok"] else 1
        elif args.store_command == "remove":
            _call(client, "DELETE", f"/api/stores/{args.name}")
            print(f"removed store {args.name}")
        elif args.store_command == "webhooks":
            return _store_webhooks(client, args)
        elif args.store_command == "edit":
            return _store_edit(client, args)
    return 0


# `store edit` flags and the store fields they set (PATCH /api/stores/{name}, as the dashboard's Edit).
EDITABLE = ("base_url", "consumer_key", "consumer_secret", "auth_mode", "routing", "max_concurrency")


def _store_edit(client: httpx.Client, args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {f: getattr(args, f) for f in EDITABLE if getattr(args, f) is not None}
    if args.enabled is not None:
        changes["enabled"] = args.enabled
    if not changes:
        raise CliError(
            "Nothing to change: pass one of --base-url, --consumer-key, --consumer-secret, --auth-mode, "
            "--routing, --max-concurrency, --enable, --disable."
        )
    store = _call(client, "PATCH", f"/api/stores/{args.name}", json=changes)
    shown = ", ".join(
        f"{field} (changed)" if field in ("consumer_key", "consumer_secret") else f"{field} {store[field]}"
        for field in changes
    )
    print(f"saved store {store['name']}: {shown}")
    return 0


def _order_line(view: dict[str, Any]) -> str:
    order = view.get("order") or {}
    facts = [order.get("customer") or "", " ".join(filter(None, [order.get("total"), order.get("currency")]))]
    facts.append(order.get("status") or "")
    shown = " · ".join(f for f in facts if f)
    return f"order {view['store']} #{view['order_id']}" + (f" ({shown})" if shown else "")


def cmd_sync_order(args: argparse.Namespace) -> int:
    """Sync Order, as the dashboard's button: copy one order now, whatever its retry schedule."""
    with _api(args) as client:
        view = _call(client, "POST", f"/api/orders/{args.store}/{args.order_id}/sync")
    print(_order_line(view))
    links = view["links"]
    if not links:
        print("no copy to make: no store takes this order (see the stores' routing)")
        return 0
    rows = [
        (
            link["target"]["store"],
            link["state"],
            f"#{link['target']['order_id']}" if link["target"].get("order_id") else "",
            link["attempts"],
            link["last_error"] or "",
        )
        for link in links
    ]
    print(_table(rows, ["copy to", "state", "copy", "attempts", "reason"]))
    return 0 if all(link["state"] == "synced" for link in links) else 1


def cmd_failed(args: argparse.Namespace) -> int:
    """The failed orders, as the dashboard's Failed orders page lists them."""
    params: dict[str, Any] = {"state": "failed", "limit": args.limit}
    if args.store:
        params["store"] = args.store
    with _api(args) as client:
        page = _call(client, "GET", "/api/links", params=params)
    links = page["items"]
    if not links:
        print("No failed orders. Nothing needs your attention.")
        return 0
    rows = []
    for link in links:
        order = link.get("order") or {}
        total = " ".join(filter(None, [order.get("total"), order.get("currency")]))
        rows.append(
            (
                f"{link['origin']['store']} #{link['origin']['order_id']}",
                link["target"]["store"],
                order.get("customer") or "",
                total,
                link["attempts"],
                when(link["updated_at"]),
                link["last_error"] or "",
            )
        )
    print(_table(rows, ["order", "copy to", "customer", "total", "attempts", "last try", "reason"]))
    if page["total"] > len(links):
        print(f"(the latest {len(links)} of {page['total']} failed copies; --limit shows more)")
    print("Fix the cause, then: wcsync sync-order STORE ORDER_ID")
    return 0


def _store_webhooks(client: httpx.Client, args: argparse.Namespace) -> int:
    path = f"/api/stores/{args.name}/webhooks"
    if args.webhooks_command == "install":
        result = _call(client, "POST", path)
        print(f"delivery URL: {result['delivery_url']}")
    else:
        result = _call(client, "GET", path)
        print(f"delivery URL: {result['delivery_url'] or '(WCSYNC_PUBLIC_URL not set)'}")
        print(f"secret held by wcsync: {'yes' if result['secret_set'] else 'no'}")
    rows = [
        (w["id"], w["topic"], w["status"], w.get("action") or "", w["delivery_url"])
        for w in result["webhooks"]
    ]
    print(_table(rows, ["id", "topic", "status", "action", "delivery url"]))
    for warning in result.get("warnings", []):
        print(f"warning: {warning}")
    for error in result.get("errors", []):
        print(f"error: {error}")
    if args.webhooks_command == "install":
        return 0 if result["ok"] else 1
    return 1 if any(w["status"] == "disabled" for w in result["webhooks"]) else 0


def cmd_token(args: argparse.Namespace) -> int:
    with _api(args) as client:
        if args.token_command == "create":
            created = _call(client, "POST", "/api/tokens", json={"store": args.store, "label": args.label})
            print(
                f"token {created['id']} for store {created['store']} "
                "(shown once; wcsync keeps only its hash):"
            )
            print(created["token"])
            print("Enter it as the token in the store's wcsync-admin plugin (WooCommerce > wcsync).")
        elif args.token_command == "list":
            tokens = _call(client, "GET", "/api/tokens")
            rows = [
                (
                    t["id"],
                    t["store"],
                    t["hint"] + "…",
                    t["label"],
                    when(t["created_at"]),
                    when(t["last_used_at"]),
                )
                for t in tokens
            ]
            print(_table(rows, ["id", "store", "token", "label", "created", "last used"]))
        elif args.token_command == "revoke":
            _call(client, "DELETE", f"/api/tokens/{args.id}")
            print(f"revoked token {args.id}")
    return 0


def cmd_secrets(args: argparse.Namespace) -> int:
    """Offline: works on the database and the key named by the settings, not over the API."""
    from app.config import get_settings
    from app.crypto import new_key, rotate_secrets

    if args.secrets_command == "new-key":
        print(new_key())
        return 0
    settings = get_settings()
    count, keyring = asyncio.run(rotate_secrets(settings, args.new_key))
    print(f"re-encrypted {count} secret values under a new key")
    if keyring.path is not None:
        print(f"{keyring.path} now holds only the new key; running wcsync processes reload it.")
        print("Back the file up: without it the stores' secrets cannot be read.")
    else:
        if not args.new_key:
            print(f"the new key: {keyring.keys[0].decode()}")
        print(
            "Put the new key in WCSYNC_SECRET_KEY and restart wcsync: until then, running processes "
            "cannot read the stores' secrets."
        )
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    """Offline, like `secrets`: `wcsync ledger restored` after restoring the database."""
    from app.config import get_settings
    from app.crypto import Keyring
    from app.db import create_engine, make_session_factory, session_scope
    from app.migrate import upgrade_to_head
    from app.sync.stores import ledger_restored

    settings = get_settings()

    async def restored() -> list[str]:
        engine = create_engine(settings.database_url, keyring=Keyring.from_settings(settings))
        try:
            await upgrade_to_head(engine)
            async with session_scope(make_session_factory(engine)) as session:
                return await ledger_restored(session)
        finally:
            await engine.dispose()

    names = asyncio.run(restored())
    print(
        f"{len(names)} store(s) ({', '.join(names) or 'none'}): before the next copy to each, wcsync "
        "adopts the copies already there, so none made since the backup is made again."
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app import accesslog
    from app.config import get_settings
    from app.main import configure_logging, create_app

    settings = get_settings()
    configure_logging(settings.log_level)
    accesslog.install()  # no query string's values in uvicorn's access log (issue 18)
    if not settings.admin_token:
        print(f"WCSYNC_ADMIN_TOKEN is not set; this run's token: {settings.resolved_admin_token()}")
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # uvicorn believes X-Forwarded-For from loopback by default: any local program could then
        # pick the address the throttle counts. The app applies WCSYNC_TRUSTED_PROXIES itself.
        proxy_headers=False,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def cmd_fake_store(args: argparse.Namespace, extra: list[str]) -> int:
    from app.testing.server import main as fake_main

    return int(fake_main(extra, prog="wcsync fake-store") or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wcsync", description=__doc__)
    # Accepted before the command (`wcsync --token X status`) and after it.
    parser.add_argument("--url", default=os.environ.get("WCSYNC_URL", DEFAULT_URL), help="wcsync's URL")
    parser.add_argument("--token", default=None, help="admin token (default: $WCSYNC_ADMIN_TOKEN)")
    sub = parser.add_subparsers(dest="command", required=True)

    def remote(p: argparse.ArgumentParser) -> None:
        # SUPPRESS: given only after the command, they override the ones before it.
        p.add_argument("--url", default=argparse.SUPPRESS, help="wcsync's URL")
        p.add_argument(
            "--token", default=argparse.SUPPRESS, help="admin token (default: $WCSYNC_ADMIN_TOKEN)"
        )

    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    demo = sub.add_parser("demo", help="fake main + two fake sub-stores, SQLite, seeded orders")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    sub.add_parser("fake-store", help="serve a fake WooCommerce store (see --help)", add_help=False)

    sync = sub.add_parser("sync", help="Sync Now: run a pass")
    sync.add_argument("--direction", choices=["both", "main_to_sub", "sub_to_main"], default="both")
    sync.add_argument("--store", default=None, help="only this store")
    sync.add_argument("--wait", action="store_true", help="follow the run to its end")
    sync.add_argument("--full", action="store_true", help="Full sync: walk every order and repair drift")
    sync.add_argument("--since", default=None, help="with --full: only orders created since this ISO date")
    remote(sync)

    status = sub.add_parser("status", help="pending counts and the last runs")
    remote(status)

    store = sub.add_parser("store", help="manage stores")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    add = store_sub.add_parser("add")
    add.add_argument("name")
    add.add_argument("--role", choices=["main", "sub"], required=True)
    add.add_argument("--base-url", required=True)
    add.add_argument("--consumer-key", required=True)
    add.add_argument(
        "--consumer-secret", default=None, help="or $WCSYNC_STORE_SECRET (keeps it out of history)"
    )
    add.add_argument("--routing", choices=["all", "skus"], default="all")
    add.add_argument("--auth-mode", choices=["auto", "basic", "query", "oauth1"], default="auto")
    add.add_argument("--backfill-since", default=None, help="ISO date: also replicate orders since then")
    add.add_argument("--full-sync", action="store_true", help="run a Full sync of the store once it is added")
    add.add_argument("--force", action="store_true", help="add the store even if its check fails")
    remote(add)
    for name in ("check", "remove"):
        p = store_sub.add_parser(name)
        p.add_argument("name")
        remote(p)
    _add_store_edit_parser(store_sub, remote)
    remote(store_sub.add_parser("list"))
    hooks = store_sub.add_parser("webhooks", help="WooCommerce webhooks that make sync near-instant")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True)
    for name, text in (
        ("install", "create or update the four order webhooks on the store (rotates the secret)"),
        ("list", "our webhooks on the store and their status"),
    ):
        p = hooks_sub.add_parser(name, help=text)
        p.add_argument("name", help="store name")
        remote(p)

    token = sub.add_parser("token", help="store tokens for the WordPress plugin")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="a new token for one store's plugin (shown once)")
    create.add_argument("--store", required=True, help="the store whose plugin will use it")
    create.add_argument("--label", default="", help="a note, e.g. where the token is used")
    remote(create)
    remote(token_sub.add_parser("list", help="the tokens (never the tokens themselves)"))
    revoke = token_sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int)
    remote(revoke)

    _add_order_parsers(sub, remote)

    secrets_parser = sub.add_parser("secrets", help="the key that encrypts the stores' secrets")
    secrets_sub = secrets_parser.add_subparsers(dest="secrets_command", required=True)
    rotate = secrets_sub.add_parser("rotate", help="re-encrypt every secret under a new key (offline)")
    rotate.add_argument("--new-key", default=None, help="the new key (default: a fresh one)")
    secrets_sub.add_parser("new-key", help="print a fresh key for WCSYNC_SECRET_KEY")

    ledger = sub.add_parser("ledger", help="the ledger itself (offline)")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_sub.add_parser(
        "restored", help="after restoring a backup: adopt the copies made since, never make them again"
    )
    return parser


# Options whose values are random strings: a token or a secret may start with '-'.
SECRET_VALUED = ("--token", "--consumer-key", "--consumer-secret", "--new-key")


def join_dash_values(argv: list[str], options: set[str]) -> list[str]:
    """`--token -FnX…` as `--token=-FnX…`: argparse takes a value starting with '-' for an option
    and refuses ("expected one argument"). Only for SECRET_VALUED options, and only when the next
    word is not itself one of our options."""
    joined: list[str] = []
    words = iter(argv)
    for word in words:
        if word in SECRET_VALUED:
            value = next(words, None)
            if value is None:
                joined.append(word)
            elif value.startswith("-") and value.split("=", 1)[0] not in options:
                joined.append(f"{word}={value}")
            else:
                joined += [word, value]
        else:
            joined.append(word)
    return joined


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _option_strings(child)
    return found


def _add_store_edit_parser(store_sub: Any, remote: Callable[[argparse.ArgumentParser], None]) -> None:
    edit = store_sub.add_parser("edit", help="change a store's URL, keys, authentication, routing or state")
    edit.add_argument("name")
    edit.add_argument("--base-url", default=None)
    edit.add_argument("--consumer-key", default=None)
    edit.add_argument("--consumer-secret", default=None)
    edit.add_argument("--auth-mode", choices=["auto", "basic", "query", "oauth1"], default=None)
    edit.add_argument("--routing", choices=["all", "skus"], default=None)
    edit.add_argument("--max-concurrency", type=int, default=None, help="most requests at once to it (1-16)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    remote(edit)


def _add_order_parsers(sub: Any, remote: Callable[[argparse.ArgumentParser], None]) -> None:
    sync_order = sub.add_parser("sync-order", help="Sync Order: copy one order now")
    sync_order.add_argument("store", help="the store the order was placed on")
    sync_order.add_argument("order_id", type=int, help="its order number there")
    remote(sync_order)
    failed = sub.add_parser("failed", help="the failed orders and why")
    failed.add_argument("--store", default=None, help="only copies from or to this store")
    failed.add_argument("--limit", type=int, default=50, help="most to list (up to 200)")
    remote(failed)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fake-store"]:
        return cmd_fake_store(argparse.Namespace(), argv[1:])
    parser = build_parser()
    args = parser.parse_args(join_dash_values(argv, _option_strings(parser)))
    handlers = {
        "serve": cmd_serve,
        "demo": cmd_demo,
        "sync": cmd_sync,
        "status": cmd_status,
        "store": cmd_store,
        "sync-order": cmd_sync_order,
        "failed": cmd_failed,
        "token": cmd_token,
        "secrets": cmd_secrets,
        "ledger": cmd_ledger,
    }
    try:
        return handlers[args.command](args)
    except CliError as exc:
        print(f"wcsync: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            field = ".".join(str(part) for part in error.get("loc", ()))
            print(f"wcsync: {f'WCSYNC_{field.upper()}: ' if field else ''}{message}", file=sys.stderr)
        return 2
    except WcsyncError as exc:
        print(f"wcsync: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
