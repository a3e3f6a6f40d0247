"""Order notes written by people are copied once to the other side of a link, marked with the
store they came from. System notes ("Order status changed…", stock notes) are not, nor are the
notes wcsync itself writes. A note moves no modified date on either storage (recorded case
31b), so Smart sync cannot see one: Sync Order, webhooks and Full sync copy them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.db import session_scope
from app.models import Link
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.events import link_event
from app.woocommerce.errors import WooCommerceError

SYSTEM_AUTHORS = frozenset({"system", "woocommerce", ""})
OUR_MARKERS = ("[from ", "Replicated by wcsync")


def written_by_a_person(note: dict[str, Any]) -> bool:
    author = str(note.get("author") or "").strip().lower()
    text = str(note.get("note") or "")
    return author not in SYSTEM_AUTHORS and not text.startswith(OUR_MARKERS)


def copied_text(store: str, note: dict[str, Any]) -> str:
    return f"[from {store}] {note.get('author')}: {note.get('note')}"


async def sync_notes(ctx: SyncContext, link_ids: Sequence[int], *, run_id: int | None) -> int:
    """Copy the person-written notes of each synced link's two orders to the other side."""
    copied = 0
    async with session_scope(ctx.session_factory) as session:
        links = [ln for ln in await repo.links_by_ids(session, link_ids) if ln.target_order_id is not None]
        stores = await repo.stores_by_id(session)
    for link in links:
        origin, target = stores[link.origin_store_id], stores[link.target_store_id]
        done = dict(link.notes_done or {})
        to_target, to_origin = set(done.get("to_target") or []), set(done.get("to_origin") or [])
        messages: list[str] = []
        try:
            origin_notes = await ctx.clients.get(origin).list_order_notes(link.origin_order_id)
            replica_notes = await ctx.clients.get(target).list_order_notes(link.target_order_id or 0)
            # Level-triggered like every write: a note whose copy is already on the other side
            # (a lost reply, a restored ledger) is not written again.
            on_target = {str(n.get("note") or "") for n in replica_notes}
            on_origin = {str(n.get("note") or "") for n in origin_notes}
            for note in sorted(origin_notes, key=lambda n: n.get("id") or 0):
                if written_by_a_person(note) and note.get("id") not in to_target:
                    if copied_text(origin.name, note) in on_target:
                        to_target.add(note.get("id"))
                        continue
                    await ctx.clients.get(target).create_order_note(
                        link.target_order_id or 0, copied_text(origin.name, note)
                    )
                    to_target.add(note.get("id"))
                    messages.append(f"note {note.get('id')} copied to store {target.name}")
            for note in sorted(replica_notes, key=lambda n: n.get("id") or 0):
                if written_by_a_person(note) and note.get("id") not in to_origin:
                    if copied_text(target.name, note) in on_origin:
                        to_origin.add(note.get("id"))
                        continue
                    await ctx.clients.get(origin).create_order_note(
                        link.origin_order_id, copied_text(target.name, note)
                    )
                    to_origin.add(note.get("id"))
                    messages.append(f"note {note.get('id')} copied back to store {origin.name}")
        except WooCommerceError as exc:
            log.warning("sync.notes.failed %s", kv(link=link.id, error=exc))
            messages.append(f"notes not copied yet: {exc}")
        if messages:
            async with session_scope(ctx.session_factory) as session:
                row: Link = (await repo.links_by_ids(session, [link.id or 0]))[0]
                row.notes_done = {"to_target": sorted(to_target), "to_origin": sorted(to_origin)}
                for message in messages:
                    link_event(session, row, "note", message, run_id)
            copied += sum(1 for m in messages if "copied" in m and "not copied" not in m)
    return copied
