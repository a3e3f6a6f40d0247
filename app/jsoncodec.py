"""JSON on the hot path: orjson where it gives the same result, the standard library where it
does not.

Decoding a batch reply and encoding each origin's snapshot for the ledger were a fifth of the
engine's CPU with the standard library (issue 11). orjson is several times faster but differs:
it refuses what `json` accepts (`NaN`, lone surrogates) and cannot encode some values `json` can
(integers past 64 bits); each of those falls back to `json`. One difference stays: orjson reads an
integer past 64 bits (above 2**64 - 1 or below -2**63) as a float, 2**70 as 1.18e21. No store
sends one (WooCommerce's ids and quantities are far smaller), and finding them first would cost
more than the parse; where an exact integer matters on input from elsewhere (a webhook's order
id), `loads_exact` reads as `json` does.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


class JSONTooDeep(ValueError):
    """Arrays and objects nested deeper than the parsers go (orjson stops at 1,024 levels, the
    standard library at its recursion limit): refused as invalid JSON, not a RecursionError."""

    def __init__(self) -> None:
        super().__init__("JSON nested too deep")


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raises ValueError (json.JSONDecodeError, or JSONTooDeep for nesting past
    the parsers' depth) as `json.loads` does."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return loads_exact(data)


def loads_exact(data: str | bytes) -> Any:
    """Parse JSON text as `json.loads` does (integers of any size stay integers), with
    JSONTooDeep instead of a RecursionError."""
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
