"""``WC_REST_Authentication`` as WooCommerce 7.8 runs it.

Over HTTPS only Basic auth and ``?consumer_key=&consumer_secret=`` are tried; over plain HTTP
only one-legged OAuth 1.0a. An unknown key is not an error: the request just runs anonymously
and later fails the route's permission check (recordings 25-27).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from app.testing.errors import WPError
from app.testing.phpcompat import php_rawurlencode

KeyPermissions = Literal["read_write", "read", "write"]

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
NONCE_WINDOW_SECONDS = 15 * 60


def _auth_error(message: str) -> WPError:
    return WPError("woocommerce_rest_authentication_error", message, 401)


def wc_rest_urlencode_rfc3986(value: str) -> str:
    return php_rawurlencode(value).replace("+", " ").replace("%7E", "~")


def _join_with_equals_sign(params: Mapping[str, Any], prefix: str = "") -> list[str]:
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, Mapping):
            pairs.extend(_join_with_equals_sign(value, name))
        elif isinstance(value, list):
            pairs.extend(_join_with_equals_sign({str(i): v for i, v in enumerate(value)}, name))
        else:
            # The pair "k=v" (both already encoded once) is encoded again as a whole: the
            # standard OAuth double encoding that recording 39 shows.
            pairs.append(wc_rest_urlencode_rfc3986(f"{name}={value}"))
    return pairs


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return wc_rest_urlencode_rfc3986(str(value))


def oauth_base_string(method: str, url: str, params: Mapping[str, Any]) -> str:
    """WooCommerce's OAuth 1.0a signature base string.

    ``params`` are the decoded query (and form) parameters, without ``oauth_signature``.
    Keys are sorted with ``strcmp`` before they are encoded.
    """
    ordered = {k: params[k] for k in sorted(params, key=lambda k: k.encode("utf-8"))}
    normalised = {wc_rest_urlencode_rfc3986(k): _normalise(v) for k, v in ordered.items()}
    query = "%26".join(_join_with_equals_sign(normalised))
    return f"{method.upper()}&{php_rawurlencode(url)}&{query}"


def oauth_signature(base_string: str, consumer_secret: str, method: str = "HMAC-SHA256") -> str:
    algorithm = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
    key = f"{consumer_secret}&".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), algorithm).digest()).decode()


def sign_oauth_query(
    method: str,
    url: str,
    params: Mapping[str, str],
    *,
    consumer_key: str,
    consumer_secret: str,
    timestamp: int,
    nonce: str,
    signature_method: str = "HMAC-SHA256",
) -> dict[str, str]:
    """The query parameters of a signed request, as the official Python client sends them."""
    signed: dict[str, str] = {
        **params,
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": str(timestamp),
        "oauth_nonce": nonce,
        "oauth_signature_method": signature_method,
    }
    base = oauth_base_string(method, url, signed)
    signed["oauth_signature"] = oauth_signature(base, consumer_secret, signature_method)
    return signed


_OAUTH_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))')


def parse_oauth_header(header: str) -> dict[str, str]:
    if header[:6].lower() != "oauth ":
        return {}
    return {
        match.group(1): unquote(match.group(2) if match.group(2) is not None else match.group(3))
        for match in _OAUTH_HEADER_PARAM.finditer(header)
    }


@dataclass
class ApiKey:
    consumer_key: str
    consumer_secret: str
    permissions: KeyPermissions = "read_write"
    # WooCommerce stores used nonces keyed by timestamp: a second nonce of the same second
    # replaces the first one.
    nonces: dict[int, str] = field(default_factory=dict)


@dataclass
class Identity:
    """Who a request runs as: the key's user, or anonymous."""

    key: ApiKey | None = None

    @property
    def authenticated(self) -> bool:
        return self.key is not None


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    header = headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def authenticate(
    *,
    key: ApiKey,
    https: bool,
    home_url: str,
    method: str,
    path: str,
    query: Mapping[str, Any],
    form: Mapping[str, Any],
    headers: Mapping[str, str],
    now: int,
) -> Identity:
    """Run WooCommerce's authenticator for one request; raises ``WPError`` on a bad credential.

    Only URLs under ``/wp-json/wc/`` are authenticated (recording 29b), the caller checks that.
    """
    if https:
        consumer_key = consumer_secret = None
        if query.get("consumer_key") and query.get("consumer_secret"):
            consumer_key = str(query["consumer_key"])
            consumer_secret = str(query["consumer_secret"])
        else:
            basic = _basic_credentials(headers)
            if basic and basic[0] and basic[1]:
                consumer_key, consumer_secret = basic
        if not consumer_key or not consumer_secret or consumer_key != key.consumer_key:
            return Identity()
        if not hmac.compare_digest(consumer_secret, key.consumer_secret):
            raise _auth_error("Consumer secret is invalid.")
        return Identity(key)

    params: dict[str, Any] = {**query, **form}
    header_params = parse_oauth_header(headers.get("authorization", "").strip())
    params.update(header_params)
    present = [name for name in OAUTH_PARAMS if params.get(name)]
    if not present:
        return Identity()
    missing = [name for name in OAUTH_PARAMS if not params.get(name)]
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise WPError(
            "woocommerce_rest_authentication_missing_parameter",
            f"Missing OAuth {noun} {', '.join(missing)}",
            401,
        )
    if params["oauth_consumer_key"] != key.consumer_key:
        raise _auth_error("Consumer key is invalid.")
    signature_method = str(params["oauth_signature_method"])
    provided = unquote(str(params["oauth_signature"]).replace(" ", "+"))
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise _auth_error("Invalid signature - signature method is invalid.")
    # WooCommerce signs home_url(path) with the scheme is_ssl() reports, never the Host header.
    parts = urlsplit(home_url)
    url = f"http://{parts.netloc}{path}"
    expected = oauth_signature(oauth_base_string(method, url, signed), key.consumer_secret, signature_method)
    if not hmac.compare_digest(expected, provided):
        raise _auth_error("Invalid signature - provided signature does not match.")
    try:
        timestamp = int(str(params["oauth_timestamp"]))
    except ValueError:
        raise _auth_error("Invalid timestamp.") from None
    if timestamp < now - NONCE_WINDOW_SECONDS or timestamp > now + NONCE_WINDOW_SECONDS:
        raise _auth_error("Invalid timestamp.")
    nonce = str(params["oauth_nonce"])
    if nonce in key.nonces.values():
        raise _auth_error("Invalid nonce - nonce has already been used.")
    key.nonces[timestamp] = nonce
    for stamp in [s for s in key.nonces if s < now - NONCE_WINDOW_SECONDS]:
        del key.nonces[stamp]
    return Identity(key)


def check_key_permissions(identity: Identity, real_method: str) -> None:
    """``rest_pre_dispatch``: the key's scope against the HTTP method actually sent."""
    if identity.key is None:
        return
    permissions = identity.key.permissions
    method = real_method.upper()
    if method in ("HEAD", "GET"):
        if permissions not in ("read", "read_write"):
            raise _auth_error("The API key provided does not have read permissions.")
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        if permissions not in ("write", "read_write"):
            raise _auth_error("The API key provided does not have write permissions.")
    elif method != "OPTIONS":
        raise _auth_error("Unknown request method.")
