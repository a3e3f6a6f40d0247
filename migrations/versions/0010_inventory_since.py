"""store inventory_since: how far back the copies already on a store were looked for

Revision ID: 0010_inventory_since
Revises: 0009_fold_counts_once
Create Date: 2026-12-07 21:00:00.000000

A copy is never created before the store's orders created at or after its origin's creation were
searched for one (DESIGN.md, "Copies are found by their origin, never by a window"). The
inventory records the earliest creation it searched from; an origin older than that makes it
search further back before its first copy. NULL on stores inventoried by an older version: their
window is worked out as that version took it.

Also: a main store routed by `skus` (refused since; `make demo` set it) would drop the sub-store
orders of products it does not sell, silently. It takes every order: its routing becomes `all`.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "0010_inventory_since"
down_revision: Union[str, None] = "0009_fold_counts_once"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER TABLE: a batch copy of the table on SQLite would break the counting triggers
    # of 0007, which name it.
    op.add_column("store", sa.Column("inventory_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute("UPDATE store SET routing = 'all' WHERE role = 'main' AND routing = 'skus'")


def downgrade() -> None:
    op.drop_column("store", "inventory_since")
