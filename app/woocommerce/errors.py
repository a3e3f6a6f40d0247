"""Errors raised by the WooCommerce client.

Every failure of a store call surfaces as one of these; raw httpx exceptions never escape the
client. Two questions matter to the caller and are answered on every error:

* ``retriable``: may the same request succeed later without anyone changing anything?
* ``ambiguous``: may the request have taken effect on the store although it failed? A blind
  retry of an ambiguous create can duplicate an order; look it up first.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

RetriableKind: TypeAlias = Literal["network", "timeout", "rate_limited", "server_error", "malformed"]


class WooCommerceError(Exception):
    """Root of every error the WooCommerce client raises.

    ``message`` is human readable and never contains credentials; ``status`` is the HTTP status
    (``None`` when no response arrived); ``code`` is WooCommerce's error code; ``body`` is the
    parsed JSON body or a truncated text body, redacted.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: Any = None,
        ambiguous: bool = False,
        store: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.store = store
        self.method = method
        self.path = path
        self._ambiguous = ambiguous

    @property
    def retriable(self) -> bool:
        return False

    @property
    def ambiguous(self) -> bool:
        return self._ambiguous

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, ambiguous={self.ambiguous!r})"
        )


class RetriableError(WooCommerceError):
    """A failure that may go away on its own: network, timeout, 429, 5xx, a garbled body."""

    def __init__(
        self,
        message: str,
        *,
        kind: RetriableKind,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
        body: Any = None,
        ambiguous: bool = False,
        store: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            body=body,
            ambiguous=ambiguous,
            store=store,
            method=method,
            path=path,
        )
        self.kind: RetriableKind = kind
        self.retry_after = retry_after

    @property
    def retriable(self) -> bool:
        return True


class MalformedResponse(RetriableError):
    """The store answered, but not with the JSON we expected (an HTML error page, a wrong shape)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        ambiguous: bool = False,
        store: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(
            message,
            kind="malformed",
            status=status,
            body=body,
            ambiguous=ambiguous,
            store=store,
            method=method,
            path=path,
        )


class FatalError(WooCommerceError):
    """The store refused the request (4xx); repeating it unchanged will fail the same way."""


class AuthenticationError(FatalError):
    """401/403: credentials wrong, missing, lacking a permission, or never reaching WooCommerce."""


class NotFoundError(FatalError):
    """The object does not exist on the store (404, or 400 ``…_invalid_id`` on update)."""


class RouteNotFoundError(FatalError):
    """The URL is not a WooCommerce REST route: ``rest_no_route``, or a 404 page that is not JSON.

    A configuration problem (wrong base URL, WooCommerce inactive, pretty permalinks off), not
    a missing object; deliberately not a :class:`NotFoundError`.
    """
