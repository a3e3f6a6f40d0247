"""Byte-level habits of PHP and WordPress that the fake store has to reproduce.

WooCommerce answers with PHP's ``json_encode`` (``/`` escaped as ``\\/``), builds its pagination
links with WordPress's ``add_query_arg`` (two encode/decode passes with a regex in between) and
signs OAuth with PHP's ``rawurlencode``. Python's defaults differ in small ways; these helpers
don't.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_plus

_URLENCODE_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_RAWURLENCODE_SAFE = _URLENCODE_SAFE | {ord("~")}


def php_json_dumps(value: Any) -> str:
    """``wp_json_encode``: compact, ASCII-only, and ``/`` escaped as ``\\/``.

    JSON has no ``/`` outside strings, so escaping every ``/`` in the text is exact.
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def php_urlencode(value: str) -> str:
    """PHP ``urlencode``: space becomes ``+``, ``~`` is encoded."""
    out: list[str] = []
    for byte in value.encode("utf-8"):
        if byte in _URLENCODE_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def php_rawurlencode(value: str) -> str:
    """PHP ``rawurlencode`` (RFC 3986): space becomes ``%20``, ``~`` is kept."""
    out: list[str] = []
    for byte in value.encode("utf-8"):
        if byte in _RAWURLENCODE_SAFE:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


PhpValue = str | list[Any] | dict[str, Any]

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def php_parse_str(query: str) -> dict[str, Any]:
    """PHP ``parse_str``: ``a[]=1&a[]=2`` and ``a[0]=1`` become lists, ``a[k]=v`` a dict.

    Later plain keys win but keep the first key's position, as in a PHP array.
    """
    result: dict[str, Any] = {}
    if not query:
        return result
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = unquote_plus(raw_key)
        value = unquote_plus(raw_value)
        if not key:
            continue
        bracket = key.find("[")
        if bracket <= 0 or not key.endswith("]"):
            result[key.replace(".", "_").replace(" ", "_")] = value
            continue
        base = key[:bracket].replace(".", "_").replace(" ", "_")
        subkeys = _BRACKETS.findall(key[bracket:])
        if not subkeys:
            result[base] = value
            continue
        container = result.get(base)
        sub = subkeys[0]
        if sub == "" or sub.isdigit():
            if not isinstance(container, list):
                container = [] if not isinstance(container, dict) else container
            if isinstance(container, list):
                if sub == "" or int(sub) >= len(container):
                    container.append(value)
                else:
                    container[int(sub)] = value
            else:
                container[sub or str(len(container))] = value
        else:
            if not isinstance(container, dict):
                container = (
                    {str(i): v for i, v in enumerate(container)} if isinstance(container, list) else {}
                )
            container[sub] = value
        result[base] = container
    return result


def php_build_query(params: dict[str, Any], *, encode: bool) -> str:
    """WordPress ``_http_build_query``: nested keys as ``key%5Bi%5D``, ``None`` skipped,
    ``False`` as ``0``, ``True`` as ``1``."""
    parts: list[str] = []

    def scalar(value: Any) -> str:
        if value is True:
            return "1"
        if value is False:
            return "0"
        return str(value)

    for key, value in params.items():
        name = php_urlencode(key) if encode else key
        if value is None:
            continue
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for sub_key, sub_value in items:
                if sub_value is None:
                    continue
                sub_name = f"{name}%5B{php_urlencode(str(sub_key)) if encode else sub_key}%5D"
                text = scalar(sub_value)
                parts.append(f"{sub_name}={php_urlencode(text) if encode else text}")
        else:
            text = scalar(value)
            parts.append(f"{name}={php_urlencode(text) if encode else text}")
    return "&".join(parts)


_EMPTY_VALUE = re.compile(r"=(&|$)")


def wp_add_query_arg(base_url: str, params: dict[str, Any]) -> str:
    """``add_query_arg`` called with an array of raw values (no prior ``urlencode_deep``).

    The values go in raw, then ``=`` right before ``&`` or the end is dropped (WordPress's
    "empty value" regex), which is why a base64 OAuth signature loses its trailing ``=`` in
    WooCommerce's Link header (recording 39).
    """
    merged = {k: v for k, v in params.items() if v is not False}
    query = _EMPTY_VALUE.sub(r"\1", php_build_query(merged, encode=False))
    return f"{base_url}?{query}" if query else base_url


def wp_add_query_arg_single(url: str, key: str, value: Any) -> str:
    """``add_query_arg(key, value, url)``: parse the URL's query, re-encode it, set one key."""
    base, _, query = url.partition("?")
    params = php_parse_str(query)
    params[key] = value
    params = {k: v for k, v in params.items() if v is not False}
    built = _EMPTY_VALUE.sub(r"\1", php_build_query(params, encode=True))
    return f"{base}?{built}" if built else base


def wp_specialchars_decode(text: str) -> str:
    """``wp_specialchars_decode($s, ENT_QUOTES)`` as applied to webhook secrets."""
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&#039;", "'"),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&amp;", "&"),
    ):
        text = text.replace(entity, char)
    return text


TWO_PLACES = Decimal("0.01")


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal:
    """WooCommerce's loose numeric parsing: strings, ints and floats; garbage is zero."""
    if isinstance(value, Decimal):
        return value
    if value is None or value == "" or isinstance(value, bool):
        return default if default is not None else Decimal(0)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return default if default is not None else Decimal(0)


def money(value: Decimal, dp: int = 2) -> str:
    """``wc_format_decimal($value, $dp)``: fixed places, half-up, never ``-0.00``."""
    quantum = Decimal(1).scaleb(-dp)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:.{dp}f}"


def php_number(value: Decimal) -> int | float:
    """A PHP float as ``json_encode`` prints it: whole numbers without a fraction."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
