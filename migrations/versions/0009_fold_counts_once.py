"""fold a transaction's count deltas once at commit, not once per changed row

Revision ID: 0009_fold_counts_once
Revises: 0008_order_summary_storage
Create Date: 2026-11-30 06:00:00.000000

PostgreSQL only. The deferred trigger of migration 0007 runs once for every `count_delta` row a
transaction wrote. The first call folds them all and deletes them; every later call then looked
for the transaction's rows again, through an index still holding the deleted ones, so a commit
that changed n links cost O(n^2): a claim of 50 links paid 100 look-ups over 100 dead entries,
and writing 100,000 links in one transaction took minutes. The first call now notes the last
delta it folded in a transaction-local setting, and the later calls return at once.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009_fold_counts_once'
down_revision: Union[str, None] = '0008_order_summary_storage'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WAITING = "('pending', 'in_flight')"

FOLD_ONCE = f"""CREATE OR REPLACE FUNCTION wcsync_fold_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    me bigint := txid_current();
    r record;
    nw int; nb int; nf int;
    old_w int; old_b int; old_f int;
    cur_store int := NULL;
    upto bigint;
    t_waiting int := 0; t_back int := 0; t_failed int := 0; t_any int := 0;
BEGIN
    -- Called once per delta row at commit: after the first call folded them all, the others
    -- return here without a query (the deleted rows' index entries would make each look-up
    -- slower, and the whole commit quadratic in the rows changed).
    IF NEW.id <= COALESCE(NULLIF(current_setting('wcsync.folded_upto', true), ''), '0')::bigint THEN
        RETURN NULL;
    END IF;
    SELECT MAX(id) INTO upto FROM count_delta WHERE tx = me;
    IF upto IS NULL THEN
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
    PERFORM set_config('wcsync.folded_upto', upto::text, true);
    RETURN NULL;
END $$"""

FOLD_PER_ROW = f"""CREATE OR REPLACE FUNCTION wcsync_fold_counts() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FOLD_ONCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FOLD_PER_ROW)
