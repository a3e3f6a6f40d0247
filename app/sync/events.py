"""An order's history lines, written with the unit of work that makes them true.

A line is a row of `event` and nothing else reads it back as an object, so `link_event` does
not build one: it queues the row's values on the session, and the queue is written in one
multi-row INSERT just before the session next talks to the database (a query, a flush, the
commit). Building a SQLModel object per line cost about as much as the rest of recording a
replica (issue 11); the rows, their order and their transaction are what they were."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Event, Link, utcnow

_QUEUE = "wcsync.events"
_INSERT = sa.insert(Event.__table__)  # type: ignore[attr-defined]


def link_event(
    session: AsyncSession | Session, link: Link, kind: str, message: str = "", run_id: int | None = None
) -> None:
    """Append a line to the origin order's history."""
    order_event(session, link.id, link.origin_store_id, link.origin_order_id, kind, message, run_id)


def order_event(
    session: AsyncSession | Session,
    link_id: int | None,
    store_id: int,
    order_id: int,
    kind: str,
    message: str = "",
    run_id: int | None = None,
) -> None:
    """Append a line to the history of origin order `order_id` of store `store_id` (about its
    link `link_id`, when it is about one copy)."""
    queue: list[dict[str, Any]] | None = session.info.get(_QUEUE)
    if queue is None:
        queue = session.info[_QUEUE] = []
    queue.append(
        {
            "link_id": link_id,
            "store_id": store_id,
            "order_id": order_id,
            "run_id": run_id,
            "kind": kind,
            "message": message,
            "created_at": utcnow(),
        }
    )


def write_queued_events(session: Session) -> None:
    """Write the lines queued on this (synchronous) session, if any."""
    queue = session.info.get(_QUEUE)
    if queue:
        rows = list(queue)
        queue.clear()
        session.connection().execute(_INSERT, rows)


@event.listens_for(Session, "do_orm_execute")
def _before_a_statement(state: ORMExecuteState) -> None:
    write_queued_events(state.session)


@event.listens_for(Session, "before_flush")
def _before_a_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    write_queued_events(session)


@event.listens_for(Session, "before_commit")
def _before_the_commit(session: Session) -> None:
    write_queued_events(session)


@event.listens_for(Session, "after_transaction_end")
def _after_the_transaction(session: Session, transaction: SessionTransaction) -> None:
    # Rolled back (or never written): the lines go with the rest of the unit of work.
    if transaction.parent is None:
        queue = session.info.get(_QUEUE)
        if queue:
            queue.clear()
