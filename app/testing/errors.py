"""WordPress REST errors as WooCommerce 7.8 renders them."""

from __future__ import annotations

from typing import Any


class WPError(Exception):
    """A ``WP_Error`` on its way to becoming ``{code, message, data}``.

    ``data`` is normally ``{"status": N, ...}``. A few refund errors are built with a bare
    integer as data; WordPress then answers HTTP 500 and the body carries ``"data": 404``
    (recording 32e): pass ``bare_data`` for those.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        *,
        extra: dict[str, Any] | None = None,
        bare_data: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.bare_data = bare_data

    @property
    def http_status(self) -> int:
        return 500 if self.bare_data is not None else self.status

    def body(self) -> dict[str, Any]:
        data: Any
        if self.bare_data is not None:
            data = self.bare_data
        else:
            data = {"status": self.status, **self.extra}
        return {"code": self.code, "message": self.message, "data": data}


CRITICAL_ERROR_MESSAGE = (
    "<p>There has been a critical error on this website.</p><p><a "
    'href="https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more '
    "about troubleshooting WordPress.</a></p>"
)


class CriticalError(WPError):
    """A PHP fatal error inside the request: WordPress's "critical error" 500 (the body of
    real-10.6-hpos/l05). Unlike a ``WP_Error`` it ends a whole batch, not one item."""

    def __init__(self) -> None:
        super().__init__("internal_server_error", CRITICAL_ERROR_MESSAGE, 500)

    def body(self) -> dict[str, Any]:
        return {**super().body(), "additional_errors": []}


def invalid_params(problems: dict[str, tuple[str, str]]) -> WPError:
    """``rest_invalid_param`` for ``{param: (detail_code, message)}``, as cases 05/06/18."""
    return WPError(
        "rest_invalid_param",
        "Invalid parameter(s): " + ", ".join(problems),
        400,
        extra={
            "params": {name: message for name, (_, message) in problems.items()},
            "details": {
                name: {"code": code, "message": message, "data": None}
                for name, (code, message) in problems.items()
            },
        },
    )


def missing_params(names: list[str]) -> WPError:
    return WPError(
        "rest_missing_callback_param",
        "Missing parameter(s): " + ", ".join(names),
        400,
        extra={"params": names},
    )


def order_invalid_id(status: int) -> WPError:
    return WPError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", status)


NO_ROUTE = ("rest_no_route", "No route was found matching the URL and request method.")


def invalid_item_id() -> WPError:
    return WPError(
        "woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.", 400
    )
