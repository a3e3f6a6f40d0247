"""Domain errors, named as facts, under one root that carries the HTTP status the API answers."""

from __future__ import annotations

from typing import Any


class WcsyncError(Exception):
    status_code: int = 400
    code: str = "wcsync_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Headers of the answer (Retry-After) and fields added to the error body (details).
        self.headers: dict[str, str] | None = None
        self.extra: dict[str, Any] = {}


class NotAuthenticated(WcsyncError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(WcsyncError):
    """Authenticated, but this token may not do this."""

    status_code = 403
    code = "forbidden"


class CsrfHeaderMissing(WcsyncError):
    status_code = 403
    code = "csrf_header_missing"


class TooManyFailures(WcsyncError):
    """An address is refused for a while: too many wrong tokens came from it."""

    status_code = 429
    code = "too_many_failures"

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        """`message`: the text to answer, `{seconds}` in it replaced by the wait."""
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(
            message.replace("{seconds}", str(seconds))
            if message
            else f"Too many wrong tokens from your address: wcsync pauses checks of tokens from it for "
            f"{seconds} s (a store's right wcsync token still works)."
        )
        self.retry_after = seconds
        self.headers = {"Retry-After": str(seconds)}


class WrongTokenPaused(TooManyFailures):
    """One wrong token came back too often (a plugin keeps retrying it): its checks pause; other
    tokens from the same address are not affected."""

    def __init__(self, retry_after: float, *, store_token: bool) -> None:
        if store_token:
            text = (
                "This store's wcsync token is wrong: wcsync knows no such token (revoked, or made by "
                "another wcsync). Make a new store token in wcsync and save it in the wcsync-admin "
                "plugin's settings; wcsync pauses checks of this one for {seconds} s."
            )
        else:
            text = (
                "This token is wrong: it is neither the admin token (WCSYNC_ADMIN_TOKEN) nor a "
                "store's wcsync token; wcsync pauses checks of it for {seconds} s."
            )
        super().__init__(retry_after, text)


class TokenNotFound(WcsyncError):
    status_code = 404
    code = "token_not_found"

    def __init__(self, token_id: int) -> None:
        super().__init__(f"No store token with id {token_id}.")


class StoreCheckFailed(WcsyncError):
    """A store was not added because its check failed; `checks` says why."""

    status_code = 422
    code = "store_check_failed"

    def __init__(self, name: str, checks: list[dict[str, Any]]) -> None:
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in checks if not c["ok"])
        super().__init__(f"Store {name!r} was not added, its check failed: {failed}")
        self.extra = {"checks": checks}


class StoreNotFound(WcsyncError):
    status_code = 404
    code = "store_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"No store named {name!r}.")


class StoreAlreadyExists(WcsyncError):
    status_code = 409
    code = "store_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"A store named {name!r} already exists.")


class MainStoreAlreadyExists(WcsyncError):
    status_code = 409
    code = "main_store_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"Store {name!r} is already the main store; there can be only one.")


class RunNotFound(WcsyncError):
    status_code = 404
    code = "run_not_found"

    def __init__(self, run_id: int) -> None:
        super().__init__(f"No run with id {run_id}.")


class OrderNotFound(WcsyncError):
    status_code = 404
    code = "order_not_found"

    def __init__(self, store: str, order_id: int) -> None:
        super().__init__(f"Store {store!r} has no order {order_id}.")


class StoreUnavailable(WcsyncError):
    status_code = 502
    code = "store_unavailable"


class InvalidRequest(WcsyncError):
    status_code = 422
    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.extra = {"details": [{"field": field, "problem": message}]}


class MappingError(WcsyncError):
    """An origin order that cannot become a payload for a target; the link is parked."""

    code = "mapping_error"


class UnknownSku(MappingError):
    code = "unknown_sku"

    def __init__(
        self, store: str, skus: list[str], *, origin: str | None = None, to_main: bool = False
    ) -> None:
        listed = ", ".join(skus)
        noun = "SKU" if len(skus) == 1 else "SKUs"
        if to_main:
            # Every sub-store order goes to the main store whatever the routing: the catalogue
            # is what must change, on one side or the other.
            sold = f", which store {origin!r} sold" if origin else ""
            advice = (
                f"The main store {store!r} has no product with {noun} {listed}{sold}; add the product "
                f"to the main store with that {noun}, or correct the product's {noun} on "
                f"{f'store {origin!r}' if origin else 'the sub-store'}, then press Sync Order."
            )
        else:
            advice = (
                f"Store {store!r} sells no product with {noun} {listed}; add the product there, or set "
                "the store to receive only orders with products it sells (its routing), then press "
                "Sync Order."
            )
        super().__init__(advice)
        self.skus = skus


class MissingSku(MappingError):
    code = "missing_sku"

    def __init__(self, names: list[str]) -> None:
        listed = ", ".join(repr(n) for n in names)
        super().__init__(
            f"Line item {listed} has no SKU on the origin store; wcsync matches products by SKU, "
            "so give the product a SKU and press Sync Order."
        )


class InvalidOrderData(MappingError):
    code = "invalid_order"


class StatusNotOnStore(MappingError):
    """The order's status is registered (by a plugin) where it comes from but not on the store
    it must be written to, and no status map says what to write instead. WooCommerce would
    turn it into `pending` inside a batch (seen on real 10.6.2), so nothing is written."""

    code = "status_not_on_store"

    def __init__(self, store: str, status: str, label: str | None = None) -> None:
        named = f"{status!r} ({label})" if label and label != status else repr(status)
        super().__init__(
            f"Store {store!r} has no order status {named}: a plugin registers it on the origin's "
            f"store only. Register it on {store!r} too (the same plugin), or map it to a status "
            f'{store!r} has with WCSYNC_STATUS_MAP, e.g. WCSYNC_STATUS_MAP="{store}:{status}=completed", '
            "then press Sync Order."
        )
        self.store, self.status = store, status


class OrderRejected(WcsyncError):
    """The target store answered a create with an error; the link is parked with it."""

    code = "order_rejected"

    def __init__(self, store: str, message: str, code: str | None = None) -> None:
        super().__init__(f"Store {store!r} rejected the order: {message}")
        if code:
            self.code = code


class ReplicaNotConfirmed(WcsyncError):
    """A create got no clear answer and the target holds no copy: safe to send again."""

    code = "not_confirmed"

    def __init__(self, store: str, reason: str | None) -> None:
        super().__init__(
            f"Store {store!r} did not confirm the order ({reason or 'no reply'}) and has no copy "
            "of it; it will be sent again."
        )
