"""Turn WooCommerce replies and httpx failures into the errors in :mod:`app.woocommerce.errors`.

Pure functions of what came back (status, headers, body) and what was asked (method, whether the
request creates an order), so every recorded error case can be checked without a network.
"""

from __future__ import annotations

import errno
import html
import json
import re
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app import jsoncodec
from app.woocommerce.errors import (
    AuthenticationError,
    FatalError,
    MalformedResponse,
    NotFoundError,
    RetriableError,
    RouteNotFoundError,
    WooCommerceError,
)
from app.woocommerce.redact import redact, redact_data

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Codes that mean "this object does not exist", whatever the HTTP status: an update of a missing
# order is 400 (recorded 20), a refund on a missing order is 500 with `"data": 404` (32e).
NOT_FOUND_CODES = frozenset(
    {
        "woocommerce_rest_shop_order_invalid_id",
        "woocommerce_rest_invalid_order_id",
        "woocommerce_rest_order_invalid_id",
        "woocommerce_rest_invalid_id",
    }
)

# 4xx codes WordPress/WooCommerce return before touching any order. Any other 4xx on an order
# create may come after WooCommerce already saved the order (recorded 43: an unknown coupon
# gives 400 but leaves a pending order behind), so such an error is marked ambiguous.
REJECTED_BEFORE_WORK_CODES = frozenset(
    {
        "rest_invalid_param",
        "rest_missing_callback_param",
        "rest_invalid_json",
        "rest_no_route",
        "woocommerce_rest_shop_order_exists",
        "woocommerce_rest_request_entity_too_large",
    }
)

# Refusals WooCommerce sends as HTTP 500: the store judged the request and said no ("Invalid
# refund amount." for a refund larger than what is left, recorded v10; a gateway that cannot
# refund). Sending the same request again gets the same answer, so they are not retried.
REFUSED_AS_500_CODES = frozenset({"woocommerce_rest_cannot_create_order_refund"})

BODY_TEXT_LIMIT = 2000
_SNIPPET_LIMIT = 200

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RequestContext:
    """What the classifier needs to know about the request that failed."""

    method: str
    path: str
    store: str = ""
    creates_order: bool = False
    secrets: Sequence[str] = ()

    @property
    def unsafe(self) -> bool:
        """A write: if it failed after being sent, it may still have taken effect."""
        return self.method.upper() not in SAFE_METHODS


class NotJSON(ValueError):
    """The body could not be read as JSON."""


def decode_json(text: str) -> Any:
    """Parse a JSON body, tolerating a UTF-8 BOM or PHP notices printed before the JSON.

    Both are common on WordPress hosts (a BOM in a theme file, ``display_errors`` on). Anything
    else that is not JSON raises :class:`NotJSON`.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise NotJSON("empty body")
    try:
        return jsoncodec.loads(stripped)
    except ValueError:
        pass
    # PHP output before the JSON: accept only if everything from some `{`/`[` to the end parses.
    tried = 0
    for match in re.finditer(r"[\[{]", stripped):
        if match.start() == 0:
            continue
        tried += 1
        if tried > 20:
            break
        try:
            return json.loads(stripped[match.start() :])
        except ValueError:
            continue
    raise NotJSON("not JSON")


def _snippet(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= _SNIPPET_LIMIT else text[: _SNIPPET_LIMIT - 1] + "…"


def describe_non_json(text: str, content_type: str, status: int, secrets: Sequence[str] = ()) -> str:
    """A plain sentence about a body that is not JSON, e.g. a host's HTML error page."""
    if not text.strip():
        return f"store returned an empty body (HTTP {status})"
    looks_html = "html" in content_type.lower() or bool(
        re.match(r"\s*(<!doctype html|<html)", text, re.IGNORECASE)
    )
    if looks_html:
        title_match = _TITLE.search(text)
        title = html.unescape(title_match.group(1)) if title_match else _TAG.sub(" ", text)
        return redact(f"store returned HTML, not JSON (HTTP {status}): {_snippet(title)}", secrets)
    kind = content_type.split(";", 1)[0].strip() or "unknown content type"
    return redact(
        f"store returned {kind}, not JSON (HTTP {status}): {_snippet(text)}",
        secrets,
    )


def truncated_body(text: str, secrets: Sequence[str] = ()) -> str:
    body = text if len(text) <= BODY_TEXT_LIMIT else text[:BODY_TEXT_LIMIT] + "…"
    return redact(body, secrets)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _auth_message(status: int, code: str | None, wc_message: str) -> str:
    lowered = wc_message.lower()
    if "consumer secret is invalid" in lowered:
        plain = "the store rejected the consumer secret"
    elif "consumer key is invalid" in lowered:
        plain = "the store does not know this consumer key"
    elif "write permission" in lowered:
        plain = "the key lacks write permission"
    elif "read permission" in lowered:
        plain = "the key lacks read permission"
    elif "invalid signature" in lowered:
        plain = (
            "the store rejected the OAuth signature (the base URL must match the store's own "
            "home URL, scheme and host included)"
        )
    elif "invalid timestamp" in lowered:
        plain = "the store rejected the OAuth timestamp (clocks differ by more than 15 minutes)"
    elif "nonce" in lowered:
        plain = "the store rejected a reused OAuth nonce"
    elif code == "woocommerce_rest_authentication_missing_parameter":
        plain = "the store did not receive the OAuth parameters"
    elif status == 401:
        plain = (
            "no valid credentials (unknown key, or Basic auth over plain HTTP, or the web server "
            "stripped the Authorization header)"
        )
    else:
        plain = "the key's user is not allowed to do this"
    detail = f"{code}: {wc_message}" if code else wc_message
    return f"{plain} ({detail}, HTTP {status})" if detail else f"{plain} (HTTP {status})"


def _wc_detail(wc_message: str, code: str | None, status: int, data: Any) -> str:
    text = wc_message or "no message"
    if isinstance(data, Mapping) and isinstance(data.get("params"), Mapping):
        params = "; ".join(str(v) for v in data["params"].values())
        if params:
            text = f"{text}: {params}"
    return f"{text} ({code}, HTTP {status})" if code else f"{text} (HTTP {status})"


def classify_wc_error(
    *,
    status: int,
    code: str | None,
    wc_message: str,
    data: Any,
    body: Any,
    ctx: RequestContext,
    retry_after: float | None = None,
) -> WooCommerceError:
    """Classify a WooCommerce ``{code, message, data}`` error answered with HTTP ``status``."""
    # WP_Error built with a bare integer as data (refund endpoints) is sent as HTTP 500 with
    # `"data": 404`; the integer is what WooCommerce meant.
    effective = status
    if isinstance(data, int) and not isinstance(data, bool) and 400 <= data < 600:
        effective = data
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "body": body,
        "store": ctx.store,
        "method": ctx.method,
        "path": ctx.path,
    }
    message = redact(_wc_detail(wc_message, code, effective, data), ctx.secrets)

    if effective in (401, 403):
        return AuthenticationError(redact(_auth_message(effective, code, wc_message), ctx.secrets), **common)
    if code in NOT_FOUND_CODES or (effective == 404 and code != "rest_no_route"):
        return NotFoundError(message, **common)
    if code == "rest_no_route":
        return RouteNotFoundError(
            f"{message}: is WooCommerce active, the base URL right and pretty permalinks on?",
            **common,
        )
    if effective == 429:
        return RetriableError(
            f"rate limited: {message}", kind="rate_limited", retry_after=retry_after, **common
        )
    if effective == 408:
        return RetriableError(message, kind="timeout", retry_after=retry_after, **common)
    if effective == 501 or code in REFUSED_AS_500_CODES:
        return FatalError(message, **common)
    if effective >= 500:
        return RetriableError(
            message,
            kind="server_error",
            retry_after=retry_after,
            ambiguous=ctx.unsafe,
            **common,
        )
    ambiguous = (
        ctx.creates_order
        and 400 <= effective < 500
        and effective != 413
        and code not in REJECTED_BEFORE_WORK_CODES
    )
    return FatalError(message, ambiguous=ambiguous, **common)


def error_from_response(
    *,
    status: int,
    headers: Mapping[str, str],
    text: str,
    ctx: RequestContext,
    now: datetime | None = None,
) -> WooCommerceError:
    """Classify a non-2xx reply. ``text`` is the decoded body."""
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    content_type = headers.get("content-type", "")
    try:
        parsed = decode_json(text)
    except NotJSON:
        parsed = None
        is_json = False
    else:
        is_json = True

    if is_json and isinstance(parsed, Mapping) and isinstance(parsed.get("code"), str):
        return classify_wc_error(
            status=status,
            code=parsed["code"],
            wc_message=str(parsed.get("message") or ""),
            data=parsed.get("data"),
            body=redact_data(parsed, ctx.secrets),
            ctx=ctx,
            retry_after=retry_after,
        )

    if is_json:
        body: Any = redact_data(parsed, ctx.secrets)
        description = f"store returned an unexpected JSON error body (HTTP {status})"
    else:
        body = truncated_body(text, ctx.secrets)
        description = describe_non_json(text, content_type, status, ctx.secrets)
    common: dict[str, Any] = {
        "status": status,
        "body": body,
        "store": ctx.store,
        "method": ctx.method,
        "path": ctx.path,
    }

    if 300 <= status < 400:
        location = redact(headers.get("location", "?"), ctx.secrets)
        return FatalError(
            f"store redirected (HTTP {status}) to {location}; use the final address as the "
            "base URL (redirects are not followed: they would turn a POST into a GET)",
            **common,
        )
    if status in (401, 403):
        return AuthenticationError(
            f"the store or a firewall in front of it refused access: {description}", **common
        )
    if status == 429:
        return RetriableError(
            f"rate limited: {description}", kind="rate_limited", retry_after=retry_after, **common
        )
    if status == 408:
        return RetriableError(description, kind="timeout", retry_after=retry_after, **common)
    if status == 501:
        return FatalError(f"{description}; a firewall may block this HTTP method", **common)
    if status >= 500:
        return RetriableError(
            description,
            kind="server_error",
            retry_after=retry_after,
            ambiguous=ctx.unsafe,
            **common,
        )
    if status == 404:
        return RouteNotFoundError(
            f"{description}; is the base URL right and are pretty permalinks on?", **common
        )
    return FatalError(description, **common)


def error_from_batch_item(error: Any, ctx: RequestContext) -> WooCommerceError:
    """Build the error of one failed batch entry from its ``{code, message, data: {status}}``."""
    if not isinstance(error, Mapping):
        return MalformedResponse(
            "batch entry has an error that is not an object",
            body=redact_data(error, ctx.secrets),
            ambiguous=ctx.unsafe,
            store=ctx.store,
            method=ctx.method,
            path=ctx.path,
        )
    data = error.get("data")
    status = 400
    if isinstance(data, Mapping) and isinstance(data.get("status"), int):
        status = data["status"]
    elif isinstance(data, int) and not isinstance(data, bool):
        status = data
    code = error.get("code")
    return classify_wc_error(
        status=status,
        code=code if isinstance(code, str) else None,
        wc_message=str(error.get("message") or ""),
        data=data,
        body=redact_data(dict(error), ctx.secrets),
        ctx=ctx,
    )


def error_from_transport(exc: Exception, ctx: RequestContext, timeout: float) -> WooCommerceError:
    """Classify an exception raised while sending or receiving (httpx or the overall deadline)."""
    detail = redact(describe_transport_failure(exc), ctx.secrets)
    common: dict[str, Any] = {"store": ctx.store, "method": ctx.method, "path": ctx.path}
    # Order matters: the httpx timeouts are TransportErrors too.
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return RetriableError(
            f"timed out before the request reached the store ({detail})",
            kind="timeout",
            ambiguous=False,
            **common,
        )
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return RetriableError(
            f"no complete answer from the store within {timeout:g} s ({detail})",
            kind="timeout",
            ambiguous=ctx.unsafe,
            **common,
        )
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return RetriableError(
            f"the store's HTTPS certificate is not trusted ({detail}); if it comes from your own CA, "
            "give that CA's certificate in WCSYNC_CA_BUNDLE",
            kind="network",
            ambiguous=False,
            **common,
        )
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return RetriableError(
            f"could not connect to the store ({detail})",
            kind="network",
            ambiguous=False,
            **common,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FatalError(f"unsupported URL ({detail})", **common)
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponse(
            f"store sent a body that could not be decoded ({detail})",
            ambiguous=ctx.unsafe,
            **common,
        )
    if isinstance(exc, httpx.TransportError):
        return RetriableError(
            f"connection to the store failed mid-request ({detail})",
            kind="network",
            ambiguous=ctx.unsafe,
            **common,
        )
    return FatalError(f"request could not be made ({detail})", **common)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from or during, breadth first (httpx wraps httpcore,
    which wraps the socket's or TLS library's own error)."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            todo += list(current.exceptions)
    return found


def _where(exc: BaseException) -> tuple[str, str]:
    """(host, host:port) of the request that failed, or ("the store", "the store")."""
    try:
        url = exc.request.url if isinstance(exc, httpx.RequestError) else None
    except RuntimeError:  # an httpx error raised without its request
        url = None
    if url is None or not url.host:
        return "the store", "the store"
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.host, f"{host}:{port}"


def describe_transport_failure(exc: BaseException) -> str:
    """What went wrong on the way to the store, in words: which address refused, which name does
    not resolve, which certificate is not trusted; not the socket library's text."""
    host, where = _where(exc)
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = getattr(cause, "verify_message", "") or "verification failed"
            if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
                return f"{host}'s certificate is for another name: {reason}"
            return f"{host}'s certificate: {reason}"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "reason", None) or "handshake failed"
            return f"the TLS handshake with {where} failed ({str(reason).replace('_', ' ').lower()})"
        if isinstance(cause, socket.gaierror):
            return f"the name {host} does not resolve (check the URL)"
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return f"{where} refused the connection: nothing listens there"
        if getattr(cause, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return f"{where} is unreachable from here (no route to it)"
        if isinstance(cause, ConnectionResetError):
            return f"{where} reset the connection"
    # An error raised without its causes (a test's, another transport's): its text decides.
    text = str(exc).strip()
    lowered = text.lower()
    if "certificate verify failed" in lowered:
        return f"{host}'s certificate: {text.rpartition('certificate verify failed:')[2].strip(' )') or text}"
    if "connection refused" in lowered:
        return f"{where} refused the connection: nothing listens there"
    if any(s in lowered for s in ("name or service not known", "nodename nor servname", "name resolution")):
        return f"the name {host} does not resolve (check the URL)"
    if "connection reset" in lowered:
        return f"{where} reset the connection"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{where} did not answer the connection"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection to {where}"
    if isinstance(exc, httpx.WriteTimeout):
        return f"sending the request to {where} stalled"
    if isinstance(exc, httpx.ReadTimeout | TimeoutError):
        return f"{where} stopped answering"
    if isinstance(exc, httpx.RemoteProtocolError) and "disconnected" in lowered:
        return f"{where} closed the connection without an answer"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
