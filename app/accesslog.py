"""uvicorn's access log without query strings' values.

uvicorn writes each request's path with its query string in full. A token sent as `?token=…`
is refused by wcsync, but it was written to the log all the same (issue 18); so would be a
`consumer_secret=…` or anything else a client puts in a URL. The filter below keeps each
parameter's name and replaces its value, on the access logger itself, so it holds whatever log
configuration uvicorn is given.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "…"


def redact_query(path: str) -> str:
    """`/api/x?token=abc&check=true` → `/api/x?token=…&check=…` (names kept, values hidden)."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    names = [part.partition("=")[0] for part in query.split("&") if part]
    return f"{base}?" + "&".join(f"{quote(name, safe='%[]._-~')}={REDACTED}" for name in names)


class RedactQueryStrings(logging.Filter):
    """Rewrites the path argument of uvicorn's access records (client, method, path, HTTP
    version, status); a record of any other shape has every string argument with a `?` in it
    redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) and "?" in a else a for a in args)
        if "?" in str(record.msg) and not args:
            record.msg = redact_query(str(record.msg))
        return True


def install() -> None:
    """Redact query strings in uvicorn's access log (idempotent). Call before uvicorn runs:
    its logging configuration replaces the logger's handlers, not its filters."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
        logger.addFilter(RedactQueryStrings())
