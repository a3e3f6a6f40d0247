"""JSON on the hot path: orjson where it gives the same result, the standard library where it
does not.

Decoding a batch reply and encoding each origin's snapshot for the ledger were a fifth of the
engine's CPU with the standard library (issue 11). orjson is several times faster but differs:
it refuses what `json` accepts (`NaN`, lone surrogates), reads an integer past 64 bits as a
float (2**70 becomes 1.18e21), and cannot encode some values `json` can (integers past 64 bits).
Each of those goes to `json` (text with a run of 20 digits, or a minus and 19, is read by `json`
from the start), so what is accepted, and as what, is what it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS
# Where orjson would read an integer as a float: past 2**64 - 1 (20 digits) or below -2**63.
_LONG_NUMBER = re.compile(r"-\d{19}|\d{20}")
_LONG_NUMBER_BYTES = re.compile(rb"-\d{19}|\d{20}")


class JSONTooDeep(ValueError):
    """Arrays and objects nested deeper than the parsers go (orjson stops at 1,024 levels, the
    standard library at its recursion limit): refused as invalid JSON, not a RecursionError."""

    def __init__(self) -> None:
        super().__init__("JSON nested too deep")


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raises ValueError (json.JSONDecodeError, or JSONTooDeep for nesting past
    the parsers' depth) as `json.loads` does."""
    long_number = _LONG_NUMBER_BYTES if isinstance(data, bytes) else _LONG_NUMBER
    if long_number.search(data) is None:  # type: ignore[arg-type]
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise JSONTooDeep() from exc


def dumps(value: Any) -> str:
    """Encode to JSON text, compact. A NaN or an infinity is written as `null` (they are not
    JSON: PHP's json_encode refuses them, so no WooCommerce reply holds one, and PostgreSQL's
    json type refused the `NaN` the standard library wrote)."""
    try:
        return orjson.dumps(value, option=_DUMP_OPTIONS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"))
