"""Domain errors, named as facts, under one root that carries the HTTP status the API answers."""

from __future__ import annotations


class WcsyncError(Exception):
    status_code: int = 400
    code: str = "wcsync_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class MappingError(WcsyncError):
    """An origin order that cannot become a payload for a target; the link is parked."""

    code = "mapping_error"


class UnknownSku(MappingError):
    code = "unknown_sku"

    def __init__(self, store: str, skus: list[str]) -> None:
        listed = ", ".join(skus)
        noun = "SKU" if len(skus) == 1 else "SKUs"
        super().__init__(
            f"Store {store!r} sells no product with {noun} {listed}; add the product there "
            "or change this store's routing, then press Sync Order."
        )
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
