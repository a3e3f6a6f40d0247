"""jsoncodec reads and writes what the standard library does, faster."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app import jsoncodec


@pytest.mark.parametrize("number", [2**63 - 1, 2**64 - 1, 2**64, 2**70, -(2**63), -(2**63) - 1, -(10**19)])
@pytest.mark.parametrize("as_bytes", [True, False])
def test_loads_exact_keeps_integers_past_64_bits(number: int, as_bytes: bool) -> None:
    """orjson reads 2**70 as the float 1.18e21; the standard library, as the integer it is."""
    text = json.dumps({"id": number, "note": "x"})
    value = jsoncodec.loads_exact(text.encode() if as_bytes else text)
    assert value == {"id": number, "note": "x"} and type(value["id"]) is int


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000])
@pytest.mark.parametrize("parse", [jsoncodec.loads, jsoncodec.loads_exact])
def test_nesting_past_the_parsers_depth_is_a_value_error(text: str, parse: Any) -> None:
    """It was a RecursionError (a 500 where a ValueError is answered as invalid JSON)."""
    with pytest.raises(jsoncodec.JSONTooDeep) as refused:
        parse(text.encode())
    assert isinstance(refused.value, ValueError) and "nested too deep" in str(refused.value)


def test_what_orjson_refuses_is_read_as_json_reads_it() -> None:
    assert str(jsoncodec.loads(b'{"x": NaN}')["x"]) == "nan"
    with pytest.raises(ValueError):
        jsoncodec.loads(b"{")
