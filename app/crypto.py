"""The stores' secrets, encrypted at rest with Fernet (AES-128-CBC with HMAC-SHA256, from the
`cryptography` package).

The key comes from WCSYNC_SECRET_KEY, or from a key file created with mode 0600 on first start.
Either may hold several keys (comma- or line-separated): the first encrypts, all decrypt, which
is what lets `wcsync secrets rotate` re-encrypt every row under a new key while the old one still
reads. Columns typed `EncryptedText` go through the keyring attached to their engine, so the rest
of the code reads and writes plain values.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.types import TypeDecorator

from app.errors import WcsyncError

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncEngine

    from app.config import Settings

log = logging.getLogger("wcsync.crypto")

# Marks a value as ours: plain text found in an encrypted column is an error, never a secret.
PREFIX = "enc:"
# The encrypted columns, by table: the migration and the key rotation walk them.
ENCRYPTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "store": ("consumer_key", "consumer_secret", "webhook_secret"),
}


class SecretKeyError(WcsyncError):
    """The key is missing, malformed, or not the one the database was encrypted with."""

    status_code = 500
    code = "secret_key_error"


def parse_keys(text: str, source: str) -> list[bytes]:
    """Fernet keys from a comma- or line-separated list; a clear error for anything else."""
    keys = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
    if not keys:
        raise SecretKeyError(f"{source} holds no key.")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(
                f"{source} holds something that is not a Fernet key (32 bytes, URL-safe base64; make "
                "one with `wcsync secrets new-key`)."
            ) from exc
    return [key.encode() for key in keys]


def new_key() -> str:
    return Fernet.generate_key().decode()


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Write the key file with mode 0600, replacing it atomically: a crash leaves the old file
    or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask or an old leftover cannot widen it
        os.write(fd, b"\n".join(keys) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    log.warning("crypto.key_file.created path=%s (back it up: without it the stores' secrets are lost)", path)


class Keyring:
    """The keys in force. `source` names where they came from, for messages (never the key)."""

    def __init__(self, keys: Sequence[bytes], *, source: str, path: Path | None = None) -> None:
        if not keys:
            raise SecretKeyError(f"{source} holds no key.")
        self.source = source
        self.path = path
        self._lock = threading.Lock()
        self._set(keys)

    def _set(self, keys: Sequence[bytes]) -> None:
        self.keys = list(keys)
        self._fernet = MultiFernet([Fernet(k) for k in self.keys])
        self._mtime = self._file_mtime()

    def _file_mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime if self.path else None
        except OSError:
            return None

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """WCSYNC_SECRET_KEY if set; else the key file, created with mode 0600 when missing."""
        configured = settings.secret_key.get_secret_value()
        if configured:
            return cls(parse_keys(configured, "WCSYNC_SECRET_KEY"), source="WCSYNC_SECRET_KEY")
        return cls.from_file(settings.resolved_secret_key_file(), create=True)

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> Keyring:
        if create:
            _create_key_file(path)
        try:
            mode = path.stat().st_mode & 0o777
            text = path.read_text(encoding="ascii")
        except FileNotFoundError as exc:
            raise SecretKeyError(f"The key file {path} does not exist.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretKeyError(f"Cannot read the key file {path}: {exc}") from exc
        if mode & 0o077:
            log.warning("crypto.key_file.readable_by_others path=%s mode=%o (chmod 600 it)", path, mode)
        return cls(parse_keys(text, f"The key file {path}"), source=f"the key file {path}", path=path)

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise SecretKeyError(
                "A store secret in the database is not encrypted; run the migrations (wcsync serve "
                "does at start) before using this database."
            )
        token = stored[len(PREFIX) :].encode()
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            # `wcsync secrets rotate` may have re-encrypted the rows under a new key while this
            # process runs: the key file then holds it.
            if self._reload():
                try:
                    return self._fernet.decrypt(token).decode()
                except InvalidToken:
                    pass
        raise SecretKeyError(
            f"The stores' secrets cannot be decrypted with the key from {self.source}: it is not "
            "the key they were encrypted with. Restore the right key (or its file from a backup)."
        )

    def rotate(self, stored: str) -> str:
        """The same secret encrypted under the first key."""
        return self.encrypt(self.decrypt(stored))

    def _reload(self) -> bool:
        if self.path is None:
            return False
        with self._lock:
            if self._file_mtime() == self._mtime:
                return False
            try:
                keys = parse_keys(self.path.read_text(encoding="ascii"), f"The key file {self.path}")
            except (OSError, SecretKeyError, UnicodeDecodeError):
                return False
            self._set(keys)
            log.info("crypto.key_file.reloaded path=%s keys=%d", self.path, len(keys))
            return True


_default: Keyring | None = None
_default_lock = threading.Lock()


def default_keyring() -> Keyring:
    """The keyring from this process's settings, for engines made without one (the `alembic`
    command line, scripts)."""
    global _default
    with _default_lock:
        if _default is None:
            from app.config import get_settings

            _default = Keyring.from_settings(get_settings())
        return _default


def attach_keyring(engine: AsyncEngine, keyring: Keyring) -> None:
    engine.sync_engine.dialect.wcsync_keyring = keyring  # type: ignore[attr-defined]


def keyring_for(dialect: Dialect) -> Keyring:
    keyring: Keyring | None = getattr(dialect, "wcsync_keyring", None)
    return keyring if keyring is not None else default_keyring()


class EncryptedText(TypeDecorator[str]):
    """A string column stored encrypted; Python code sees the plain value."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_for(dialect).encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_for(dialect).decrypt(str(value))


async def verify_keyring(engine: AsyncEngine) -> None:
    """Decrypt one stored secret with the engine's keyring, so that a wrong or lost key stops
    the start with a clear message instead of failing every store read later."""
    async with engine.connect() as conn:
        stored = (
            await conn.execute(sa.text("SELECT consumer_secret FROM store ORDER BY id LIMIT 1"))
        ).scalar()
    if stored is not None:
        keyring_for(engine.sync_engine.dialect).decrypt(str(stored))


async def reencrypt(engine: AsyncEngine, keyring: Keyring) -> int:
    """Re-encrypt every encrypted value under the keyring's first key, in one transaction: the
    database holds the old encryption or the new one, never a mix. Returns how many values."""
    count = 0
    async with engine.begin() as conn:
        for name, columns in ENCRYPTED_COLUMNS.items():
            table = sa.table(name, sa.column("id", sa.Integer()), *(sa.column(c, sa.Text()) for c in columns))
            for row in (await conn.execute(sa.select(table))).mappings().all():
                values = {c: keyring.rotate(row[c]) for c in columns if row[c] is not None}
                if values:
                    await conn.execute(sa.update(table).where(table.c.id == row["id"]).values(values))
                    count += len(values)
    return count


async def rotate_secrets(settings: Settings, new: str | None = None) -> tuple[int, Keyring]:
    """`wcsync secrets rotate`: encrypt every secret under a new key (`new`, or a fresh one).

    With a key file, the file first holds the new key and the old ones (a crash part-way leaves
    a database and a file that still agree), then only the new key; a running wcsync notices the
    changed file and reloads it. With WCSYNC_SECRET_KEY, the caller must put the new key there.
    Returns how many values were re-encrypted and the new keyring."""
    from app.db import create_engine

    current = Keyring.from_settings(settings)
    new_keys = parse_keys(new, "The new key") if new else [Fernet.generate_key()]
    both = Keyring([*new_keys, *current.keys], source=current.source, path=current.path)
    if current.path is not None:
        write_key_file(current.path, both.keys)
    engine = create_engine(settings.database_url, keyring=both)
    try:
        count = await reencrypt(engine, both)
    finally:
        await engine.dispose()
    if current.path is not None:
        write_key_file(current.path, new_keys)
    log.info("crypto.rotated values=%d source=%s", count, current.source)
    return count, Keyring(new_keys, source=current.source, path=current.path)
