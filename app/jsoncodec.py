"""JSON on the hot path: orjson where it gives the same result, the standard library where it
does not.

Decoding a batch reply and encoding each origin's snapshot for the ledger were a fifth of the
engine's CPU with the standard library (issue 11). orjson is several times faster but stricter:
it refuses what `json` accepts (`NaN`, lone surrogates, integers past 64 bits) and cannot encode
some values `json` can (integers past 64 bits). Each of those falls back to `json`, so what is
accepted is what it was.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raises ValueError (json.JSONDecodeError) as `json.loads` does."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """Encode to JSON text, compact. A NaN or an infinity is written as `null` (they are not
    JSON: PHP's json_encode refuses them, so no WooCommerce reply holds one, and PostgreSQL's
    json type refused the `NaN` the standard library wrote)."""
    try:
        return orjson.dumps(value, option=_DUMP_OPTIONS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"))
