"""Remove WooCommerce credentials from text before it is logged or stored.

WooCommerce echoes every query parameter, credentials included, in the ``Link`` header of a
list response (recorded case 38), and a redirect repeats them in ``Location``. Anything that
came from the wire goes through :func:`redact` before it lands in an exception or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

SECRET_PARAMS: tuple[str, ...] = (
    "consumer_key",
    "consumer_secret",
    "oauth_consumer_key",
    "oauth_signature",
)

_PARAM_NAMES = "|".join(SECRET_PARAMS)

# `name=value` in a query string, also when the whole URL was percent-encoded once or twice
# (`consumer_key%3Dck_…` in an OAuth base string, `%253D` one level deeper).
_QUERY_PARAM = re.compile(
    rf"(?P<name>(?<![A-Za-z_])(?:{_PARAM_NAMES}))(?P<eq>=|%3D|%253D)"
    r"(?P<value>(?:(?!%26|%2526)[^&\s\"'<>;,)])+)",
    re.IGNORECASE,
)
# `"consumer_secret": "…"` in JSON, or `oauth_signature="…"` in an OAuth Authorization header.
_QUOTED_PARAM = re.compile(
    rf"(?P<name>[\"']?(?<![A-Za-z_])(?:{_PARAM_NAMES})[\"']?\s*[:=]\s*)"
    r"(?P<quote>[\"'])(?P<value>[^\"']*)(?P=quote)",
    re.IGNORECASE,
)
# `Authorization: Basic dXNlcjpwYXNz` (and Bearer/OAuth schemes) in a header dump.
_AUTH_HEADER = re.compile(
    r"(?P<name>\bauthorization[\"']?\s*[:=]\s*[\"']?)(?P<scheme>basic|bearer)\s+"
    r"(?P<value>[^\s\"',]+)",
    re.IGNORECASE,
)
# WooCommerce keys look like ck_/cs_ followed by 40 hex digits; catch them wherever they appear.
_KEY_SHAPED = re.compile(r"\b(?:ck|cs)_[0-9a-f]{40}\b", re.IGNORECASE)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with consumer keys, secrets, OAuth signatures and Basic credentials masked.

    ``secrets`` are extra literal values (a store's own key and secret) to mask wherever they
    occur, in case they do not have the usual ``ck_``/``cs_`` shape.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _QUOTED_PARAM.sub(lambda m: f"{m['name']}{m['quote']}{REDACTED}{m['quote']}", text)
    text = _QUERY_PARAM.sub(lambda m: f"{m['name']}{m['eq']}{REDACTED}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['name']}{m['scheme']} {REDACTED}", text)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return text


def redact_data(data: Any, secrets: Iterable[str] = ()) -> Any:
    """Redact every string inside parsed JSON; values under secret-named keys are masked whole."""
    secrets = tuple(secrets)
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, list):
        return [redact_data(item, secrets) for item in data]
    if isinstance(data, dict):
        cleaned: dict[Any, Any] = {}
        for key, value in data.items():
            if isinstance(key, str) and key.lower() in SECRET_PARAMS and value:
                cleaned[key] = REDACTED
            else:
                cleaned[key] = redact_data(value, secrets)
        return cleaned
    return data
