"""counts kept by the database (pending badge, /api/links totals), keyset indexes for /api/links,
the origin-note queue, the wcsync-admin plugin flag

Revision ID: 0007_counts_keyset_notes
Revises: 0006_sessions_tokens_secrets
Create Date: 2026-11-30 05:00:00.000000

Three tables hold the counts, kept by triggers on `link` in the transaction of every change
(whatever statement makes it: the ORM, a claim, a requeue), so that reading them is a lookup of a
few rows, never a scan of the ledger:

- `link_count`: links per (origin store, target store) and kind: each state, and `back` (a
  status set on the replica that waits to go back to the origin). Archived stores included.
- `order_state`: per origin order with work left, over the links of stores in use: copies
  waiting (pending or in flight), statuses going back to it, failed links. A row goes at 0/0/0.
- `order_count`: per origin store, the orders with work of each kind (`waiting`, `back`,
  `failed`, `any` = waiting or back): the badge counts orders, not copies.

Archiving or restoring a store rebuilds `order_state` and `order_count` (a trigger on `store`):
one pass over the links with work, at a rare admin action.

SQLite runs one writer at a time: its row triggers update the counts directly. On PostgreSQL,
concurrent transactions updating shared counter rows in the order their links change could
deadlock, so a row trigger appends the change to `count_delta` and a deferred constraint trigger
folds the transaction's deltas into the counts at commit, in one global order (link_count by
key, then order_state and order_count store by store).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0007_counts_keyset_notes'
down_revision: Union[str, None] = '0006_sessions_tokens_secrets'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WAITING = "('pending', 'in_flight')"

REBUILD_ORDERS = [
    "DELETE FROM order_state",
    "DELETE FROM order_count",
    f"""INSERT INTO order_state (origin_store_id, origin_order_id, waiting, back, failed)
    SELECT l.origin_store_id, l.origin_order_id,
           SUM(CASE WHEN l.state IN {WAITING} THEN 1 ELSE 0 END),
           SUM(CASE WHEN l.status_to_origin IS NOT NULL THEN 1 ELSE 0 END),
           SUM(CASE WHEN l.state = 'failed' THEN 1 ELSE 0 END)
    FROM link l
    WHERE (l.state IN ('pending', 'in_flight', 'failed') OR l.status_to_origin IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM store st WHERE st.id IN (l.origin_store_id, l.target_store_id)
                      AND st.archived_at IS NOT NULL)
    GROUP BY l.origin_store_id, l.origin_order_id""",
    """INSERT INTO order_count (origin_store_id, kind, n)
    SELECT origin_store_id, 'waiting', COUNT(*) FROM order_state WHERE waiting > 0 GROUP BY origin_store_id
    UNION ALL SELECT origin_store_id, 'back', COUNT(*) FROM order_state WHERE back > 0 GROUP BY origin_store_id
    UNION ALL SELECT origin_store_id, 'failed', COUNT(*) FROM order_state WHERE failed > 0 GROUP BY origin_store_id
    UNION ALL SELECT origin_store_id, 'any', COUNT(*) FROM order_state WHERE waiting + back > 0
              GROUP BY origin_store_id""",
]

REBUILD_LINKS = [
    "DELETE FROM link_count",
    """INSERT INTO link_count (origin_store_id, target_store_id, kind, direction, n)
    SELECT origin_store_id, target_store_id, state, MIN(direction), COUNT(*) FROM link
    GROUP BY origin_store_id, target_store_id, state
    UNION ALL
    SELECT origin_store_id, target_store_id, 'back', MIN(direction), COUNT(*) FROM link
    WHERE status_to_origin IS NOT NULL GROUP BY origin_store_id, target_store_id""",
]

# --- SQLite: row triggers that update the counts directly --------------------------------------

# An UPDATE changes the counts only when one of these changes; the per-order part only when the
# link moves between waiting, failed and neither, or its status-going-back appears or goes.
SQLITE_STATE_CHANGED = (
    "OLD.state IS NOT NEW.state OR (OLD.status_to_origin IS NULL) IS NOT (NEW.status_to_origin IS NULL)"
)
SQLITE_ORDER_CHANGED = (
    f"(OLD.state IN {WAITING}) IS NOT (NEW.state IN {WAITING})"
    " OR (OLD.state = 'failed') IS NOT (NEW.state = 'failed')"
    " OR (OLD.status_to_origin IS NULL) IS NOT (NEW.status_to_origin IS NULL)"
)


def _sqlite_link_counts(row: str, sign: int) -> list[str]:
    return [
        f"""INSERT INTO link_count (origin_store_id, target_store_id, kind, direction, n)
        VALUES ({row}.origin_store_id, {row}.target_store_id, {row}.state, {row}.direction, {sign})
        ON CONFLICT (origin_store_id, target_store_id, kind) DO UPDATE SET n = n + excluded.n""",
        f"""INSERT INTO link_count (origin_store_id, target_store_id, kind, direction, n)
        SELECT {row}.origin_store_id, {row}.target_store_id, 'back', {row}.direction, {sign}
        WHERE {row}.status_to_origin IS NOT NULL
        ON CONFLICT (origin_store_id, target_store_id, kind) DO UPDATE SET n = n + excluded.n""",
    ]


def _sqlite_order_counts(row: str, sign: int) -> list[str]:
    w = f"({row}.state IN {WAITING})"
    b = f"({row}.status_to_origin IS NOT NULL)"
    f = f"({row}.state = 'failed')"
    active = (
        f"NOT EXISTS (SELECT 1 FROM store st WHERE st.id IN ({row}.origin_store_id, {row}.target_store_id)"
        " AND st.archived_at IS NOT NULL)"
    )
    key = (
        f"os.origin_store_id = {row}.origin_store_id AND os.origin_order_id = {row}.origin_order_id"
    )
    return [
        f"""INSERT INTO order_state (origin_store_id, origin_order_id, waiting, back, failed)
        SELECT {row}.origin_store_id, {row}.origin_order_id, {sign} * {w}, {sign} * {b}, {sign} * {f}
        WHERE ({w} OR {b} OR {f}) AND {active}
        ON CONFLICT (origin_store_id, origin_order_id) DO UPDATE SET
            waiting = waiting + excluded.waiting, back = back + excluded.back, failed = failed + excluded.failed""",
        # Orders per store: +1 when an order's count of a kind leaves 0, -1 when it returns to 0,
        # from the order's row as it is now (before = now less this change), read once.
        f"""INSERT INTO order_count (origin_store_id, kind, n)
        SELECT {row}.origin_store_id, k.kind, CASE WHEN k.before = 0 THEN 1 ELSE -1 END
        FROM (
            SELECT kinds.kind AS kind,
                   CASE kinds.kind WHEN 'waiting' THEN s.w WHEN 'back' THEN s.b WHEN 'failed' THEN s.f
                        ELSE s.w + s.b END AS now,
                   CASE kinds.kind WHEN 'waiting' THEN s.w - s.dw WHEN 'back' THEN s.b - s.db
                        WHEN 'failed' THEN s.f - s.df ELSE s.w + s.b - s.dw - s.db END AS before
            FROM (
                SELECT COALESCE(os.waiting, 0) AS w, COALESCE(os.back, 0) AS b, COALESCE(os.failed, 0) AS f,
                       {sign} * {w} AS dw, {sign} * {b} AS db, {sign} * {f} AS df
                FROM (SELECT 1) LEFT JOIN order_state os ON {key}
            ) s,
            (SELECT 'waiting' AS kind UNION ALL SELECT 'back' UNION ALL SELECT 'failed' UNION ALL SELECT 'any') kinds
        ) k
        WHERE (k.before = 0) <> (k.now = 0) AND {active}
        ON CONFLICT (origin_store_id, kind) DO UPDATE SET n = n + excluded.n""",
        f"""DELETE FROM order_state WHERE origin_store_id = {row}.origin_store_id
        AND origin_order_id = {row}.origin_order_id AND waiting = 0 AND back = 0 AND failed = 0""",
    ]


def _sqlite_trigger(name: str, event: str, when: str | None, statements: list[str]) -> str:
    body = ";\n    ".join(statements)
    condition = f"\nWHEN {when}" if when else ""
    return f"CREATE TRIGGER {name} AFTER {event} ON link FOR EACH ROW{condition}\nBEGIN\n    {body};\nEND"


SQLITE_TRIGGERS = [
    _sqlite_trigger(
        "link_counts_insert", "INSERT", None, _sqlite_link_counts("NEW", 1) + _sqlite_order_counts("NEW", 1)
    ),
    _sqlite_trigger(
        "link_counts_delete", "DELETE", None, _sqlite_link_counts("OLD", -1) + _sqlite_order_counts("OLD", -1)
    ),
    _sqlite_trigger(
        "link_counts_update",
        "UPDATE OF state, status_to_origin",
        SQLITE_STATE_CHANGED,
        _sqlite_link_counts("OLD", -1) + _sqlite_link_counts("NEW", 1),
    ),
    _sqlite_trigger(
        "link_orders_update",
        "UPDATE OF state, status_to_origin",
        SQLITE_ORDER_CHANGED,
        _sqlite_order_counts("OLD", -1) + _sqlite_order_counts("NEW", 1),
    ),
    "CREATE TRIGGER store_archive_counts AFTER UPDATE OF archived_at ON store FOR EACH ROW\n"
    "WHEN (OLD.archived_at IS NULL) IS NOT (NEW.archived_at IS NULL)\nBEGIN\n    "
    + ";\n    ".join(REBUILD_ORDERS)
    + ";\nEND",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS link_counts_insert",
    "DROP TRIGGER IF EXISTS link_counts_delete",
    "DROP TRIGGER IF EXISTS link_counts_update",
    "DROP TRIGGER IF EXISTS link_orders_update",
    "DROP TRIGGER IF EXISTS store_archive_counts",
]

# --- PostgreSQL: deltas appended per row, folded at commit in one global order ---------------

PG_FUNCTIONS = [
    """CREATE FUNCTION wcsync_link_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO count_delta (tx, origin_store_id, origin_order_id, target_store_id, direction, state, back, sign)
        VALUES (txid_current(), OLD.origin_store_id, OLD.origin_order_id, OLD.target_store_id, OLD.direction,
                OLD.state, OLD.status_to_origin IS NOT NULL, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO count_delta (tx, origin_store_id, origin_order_id, target_store_id, direction, state, back, sign)
        VALUES (txid_current(), NEW.origin_store_id, NEW.origin_order_id, NEW.target_store_id, NEW.direction,
                NEW.state, NEW.status_to_origin IS NOT NULL, 1);
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE FUNCTION wcsync_fold_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    me bigint := txid_current();
    r record;
    nw int; nb int; nf int;
    old_w int; old_b int; old_f int;
    cur_store int := NULL;
    t_waiting int := 0; t_back int := 0; t_failed int := 0; t_any int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM count_delta WHERE tx = me) THEN
        RETURN NULL;  -- an earlier row's call already folded this transaction
    END IF;
    INSERT INTO link_count AS c (origin_store_id, target_store_id, kind, direction, n)
    SELECT origin_store_id, target_store_id, kind, MIN(direction), SUM(sign) FROM (
        SELECT origin_store_id, target_store_id, state AS kind, direction, sign FROM count_delta WHERE tx = me
        UNION ALL
        SELECT origin_store_id, target_store_id, 'back', direction, sign FROM count_delta WHERE tx = me AND back
    ) d
    GROUP BY origin_store_id, target_store_id, kind HAVING SUM(sign) <> 0
    ORDER BY origin_store_id, target_store_id, kind
    ON CONFLICT (origin_store_id, target_store_id, kind) DO UPDATE SET n = c.n + EXCLUDED.n;

    FOR r IN
        SELECT d.origin_store_id, d.origin_order_id,
               SUM(CASE WHEN d.state IN {WAITING} THEN d.sign ELSE 0 END) AS dw,
               SUM(CASE WHEN d.back THEN d.sign ELSE 0 END) AS db,
               SUM(CASE WHEN d.state = 'failed' THEN d.sign ELSE 0 END) AS df
        FROM count_delta d
        WHERE d.tx = me
          AND NOT EXISTS (SELECT 1 FROM store st WHERE st.id IN (d.origin_store_id, d.target_store_id)
                          AND st.archived_at IS NOT NULL)
        GROUP BY d.origin_store_id, d.origin_order_id
        ORDER BY d.origin_store_id, d.origin_order_id
    LOOP
        IF cur_store IS DISTINCT FROM r.origin_store_id THEN
            PERFORM wcsync_add_order_counts(cur_store, t_waiting, t_back, t_failed, t_any);
            cur_store := r.origin_store_id;
            t_waiting := 0; t_back := 0; t_failed := 0; t_any := 0;
        END IF;
        CONTINUE WHEN r.dw = 0 AND r.db = 0 AND r.df = 0;
        INSERT INTO order_state AS s (origin_store_id, origin_order_id, waiting, back, failed)
        VALUES (r.origin_store_id, r.origin_order_id, r.dw, r.db, r.df)
        ON CONFLICT (origin_store_id, origin_order_id) DO UPDATE
            SET waiting = s.waiting + EXCLUDED.waiting, back = s.back + EXCLUDED.back,
                failed = s.failed + EXCLUDED.failed
        RETURNING s.waiting, s.back, s.failed INTO nw, nb, nf;
        old_w := nw - r.dw; old_b := nb - r.db; old_f := nf - r.df;
        t_waiting := t_waiting + (CASE WHEN old_w = 0 AND nw > 0 THEN 1 WHEN old_w > 0 AND nw = 0 THEN -1 ELSE 0 END);
        t_back := t_back + (CASE WHEN old_b = 0 AND nb > 0 THEN 1 WHEN old_b > 0 AND nb = 0 THEN -1 ELSE 0 END);
        t_failed := t_failed + (CASE WHEN old_f = 0 AND nf > 0 THEN 1 WHEN old_f > 0 AND nf = 0 THEN -1 ELSE 0 END);
        t_any := t_any + (CASE WHEN old_w + old_b = 0 AND nw + nb > 0 THEN 1
                               WHEN old_w + old_b > 0 AND nw + nb = 0 THEN -1 ELSE 0 END);
        IF nw = 0 AND nb = 0 AND nf = 0 THEN
            DELETE FROM order_state WHERE origin_store_id = r.origin_store_id AND origin_order_id = r.origin_order_id;
        END IF;
    END LOOP;
    PERFORM wcsync_add_order_counts(cur_store, t_waiting, t_back, t_failed, t_any);
    DELETE FROM count_delta WHERE tx = me;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION wcsync_add_order_counts(store_id int, w int, b int, f int, a int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF store_id IS NULL OR (w = 0 AND b = 0 AND f = 0 AND a = 0) THEN
        RETURN;
    END IF;
    -- Kinds in a fixed order ('any' < 'back' < 'failed' < 'waiting'), like every transaction.
    INSERT INTO order_count AS c (origin_store_id, kind, n)
    SELECT store_id, k, v FROM (VALUES ('any', a), ('back', b), ('failed', f), ('waiting', w)) AS x(k, v)
    WHERE v <> 0 ORDER BY k
    ON CONFLICT (origin_store_id, kind) DO UPDATE SET n = c.n + EXCLUDED.n;
END $$""",
    "CREATE FUNCTION wcsync_rebuild_order_counts() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    "
    + ";\n    ".join(REBUILD_ORDERS)
    + ";\n    RETURN NULL;\nEND $$",
]
PG_TRIGGERS = [
    "CREATE TRIGGER link_counts_insert_delete AFTER INSERT OR DELETE ON link "
    "FOR EACH ROW EXECUTE FUNCTION wcsync_link_delta()",
    "CREATE TRIGGER link_counts_update AFTER UPDATE OF state, status_to_origin ON link FOR EACH ROW "
    "WHEN (OLD.state IS DISTINCT FROM NEW.state "
    "OR (OLD.status_to_origin IS NULL) IS DISTINCT FROM (NEW.status_to_origin IS NULL)) "
    "EXECUTE FUNCTION wcsync_link_delta()",
    "CREATE CONSTRAINT TRIGGER count_delta_fold AFTER INSERT ON count_delta "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wcsync_fold_counts()",
    "CREATE TRIGGER store_archive_counts AFTER UPDATE OF archived_at ON store FOR EACH ROW "
    "WHEN ((OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL)) "
    "EXECUTE FUNCTION wcsync_rebuild_order_counts()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS store_archive_counts ON store",
    "DROP TRIGGER IF EXISTS count_delta_fold ON count_delta",
    "DROP TRIGGER IF EXISTS link_counts_update ON link",
    "DROP TRIGGER IF EXISTS link_counts_insert_delete ON link",
    "DROP FUNCTION IF EXISTS wcsync_rebuild_order_counts()",
    "DROP FUNCTION IF EXISTS wcsync_add_order_counts(int, int, int, int, int)",
    "DROP FUNCTION IF EXISTS wcsync_fold_counts()",
    "DROP FUNCTION IF EXISTS wcsync_link_delta()",
]


def upgrade() -> None:
    op.create_table(
        'link_count',
        sa.Column('origin_store_id', sa.Integer(), nullable=False),
        sa.Column('target_store_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('origin_store_id', 'target_store_id', 'kind'),
    )
    op.create_table(
        'order_state',
        sa.Column('origin_store_id', sa.Integer(), nullable=False),
        sa.Column('origin_order_id', sa.BigInteger(), nullable=False),
        sa.Column('waiting', sa.Integer(), nullable=False),
        sa.Column('back', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('origin_store_id', 'origin_order_id'),
    )
    op.create_table(
        'order_count',
        sa.Column('origin_store_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('origin_store_id', 'kind'),
    )
    op.create_table(
        'count_delta',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tx', sa.BigInteger(), nullable=False),
        sa.Column('origin_store_id', sa.Integer(), nullable=False),
        sa.Column('origin_order_id', sa.BigInteger(), nullable=False),
        sa.Column('target_store_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('back', sa.Boolean(), nullable=False),
        sa.Column('sign', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_count_delta_tx', 'count_delta', ['tx'], unique=False)
    with op.batch_alter_table('store', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('admin_plugin', sa.Boolean(), server_default=sa.false(), nullable=False))
    # recreate='never': rebuilding `link` on SQLite would cascade-delete every event row.
    with op.batch_alter_table('link', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('origin_note_due', sa.Boolean(), server_default=sa.false(), nullable=False))
    # ix_link_target_state_id serves claims better (in id order) than ix_link_claim, and
    # ix_link_state_id what ix_link_state_direction served: fewer indexes to write per change.
    op.drop_index('ix_link_claim', table_name='link')
    op.drop_index('ix_link_state_direction', table_name='link')
    op.create_index('ix_link_state_id', 'link', ['state', 'id'], unique=False)
    op.create_index('ix_link_origin_state_id', 'link', ['origin_store_id', 'state', 'id'], unique=False)
    op.create_index('ix_link_target_state_id', 'link', ['target_store_id', 'state', 'id'], unique=False)
    op.create_index(
        'ix_link_note_due', 'link', ['target_store_id', 'id'], unique=False,
        sqlite_where=sa.text('origin_note_due'), postgresql_where=sa.text('origin_note_due'),
    )
    for statement in REBUILD_LINKS + REBUILD_ORDERS:
        op.execute(statement)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for statement in PG_DROP if op.get_bind().dialect.name == 'postgresql' else SQLITE_DROP:
        op.execute(statement)
    op.drop_index('ix_link_note_due', table_name='link')
    op.drop_index('ix_link_target_state_id', table_name='link')
    op.drop_index('ix_link_origin_state_id', table_name='link')
    op.drop_index('ix_link_state_id', table_name='link')
    op.create_index('ix_link_state_direction', 'link', ['state', 'direction'], unique=False)
    op.create_index('ix_link_claim', 'link', ['target_store_id', 'state', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('link', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('origin_note_due')
    with op.batch_alter_table('store', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('admin_plugin')
    op.drop_index('ix_count_delta_tx', table_name='count_delta')
    op.drop_table('count_delta')
    op.drop_table('order_count')
    op.drop_table('order_state')
    op.drop_table('link_count')
