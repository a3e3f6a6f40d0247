"""dashboard sessions, the plugin's store tokens, sign-in throttling, store secrets encrypted

Revision ID: 0006_sessions_tokens_secrets
Revises: 0005
Create Date: 2026-11-30 03:00:00.000000

The stores' consumer key, consumer secret and webhook secret become TEXT (an encrypted value is
longer than the plain one) and every existing value is encrypted with the key in force
(WCSYNC_SECRET_KEY or the key file).

On SQLite the columns are not retyped by rebuilding the table, as batch mode would: dropping
the old `store` table with foreign keys on deletes every link, cursor and event of every store
(ON DELETE CASCADE), and the pragma cannot be turned off inside the migration's transaction.
Each column is added anew, filled, the old one dropped and the new one renamed instead
(SQLite 3.35+).
"""
from typing import Callable, Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

from app.crypto import PREFIX, keyring_for


# revision identifiers, used by Alembic.
revision: str = '0006_sessions_tokens_secrets'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (column, nullable, type before this revision)
SECRET_COLUMNS = (
    ('consumer_key', False, sa.String(length=200)),
    ('consumer_secret', False, sa.String(length=200)),
    ('webhook_secret', True, sa.String(length=100)),
)


def _convert(column: str, convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    store = sa.table('store', sa.column('id', sa.Integer()), sa.column(column, sa.Text()))
    rows = bind.execute(sa.select(store.c.id, store.c[column])).all()
    for row_id, value in rows:
        if value is None:
            continue
        new = convert(value)
        if new != value:
            bind.execute(sa.update(store).where(store.c.id == row_id).values({column: new}))


def _retype(column: str, nullable: bool, type_: sa.types.TypeEngine, convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.alter_column('store', column, type_=type_, existing_nullable=nullable)
        _convert(column, convert)
        return
    temporary = f'{column}__new'
    not_null = '' if nullable else " NOT NULL DEFAULT ''"
    ddl_type = type_.compile(dialect=bind.dialect)
    op.execute(f'ALTER TABLE store ADD COLUMN {temporary} {ddl_type}{not_null}')
    op.execute(f'UPDATE store SET {temporary} = {column}')
    op.execute(f'ALTER TABLE store DROP COLUMN {column}')
    op.execute(f'ALTER TABLE store RENAME COLUMN {temporary} TO {column}')
    _convert(column, convert)


def upgrade() -> None:
    op.create_table('admin_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('token_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('admin_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_session_id_hash'), ['id_hash'], unique=True)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_token_token_hash'), ['token_hash'], unique=True)

    op.create_table('auth_throttle',
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('blocked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('lockouts', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('client')
    )
    with op.batch_alter_table('auth_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_throttle_updated_at'), ['updated_at'], unique=False)

    keyring = keyring_for(op.get_bind().dialect)

    def encrypt(value: str) -> str:
        return value if value.startswith(PREFIX) else keyring.encrypt(value)

    for column, nullable, _ in SECRET_COLUMNS:
        _retype(column, nullable, sa.Text(), encrypt)


def downgrade() -> None:
    keyring = keyring_for(op.get_bind().dialect)

    def decrypt(value: str) -> str:
        return keyring.decrypt(value) if value.startswith(PREFIX) else value

    for column, nullable, old_type in SECRET_COLUMNS:
        # Decrypt while the column is still TEXT: a ciphertext would not fit the old length.
        _convert(column, decrypt)
        _retype(column, nullable, old_type, lambda value: value)

    with op.batch_alter_table('auth_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_throttle_updated_at'))
    op.drop_table('auth_throttle')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_token_hash'))
        batch_op.drop_index(batch_op.f('ix_api_token_store_id'))
    op.drop_table('api_token')
    with op.batch_alter_table('admin_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_session_id_hash'))
        batch_op.drop_index(batch_op.f('ix_admin_session_expires_at'))
    op.drop_table('admin_session')
