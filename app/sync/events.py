from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Event, Link


def link_event(
    session: AsyncSession, link: Link, kind: str, message: str = "", run_id: int | None = None
) -> None:
    """Append a line to the origin order's history."""
    session.add(
        Event(
            link_id=link.id,
            store_id=link.origin_store_id,
            order_id=link.origin_order_id,
            run_id=run_id,
            kind=kind,
            message=message,
        )
    )
