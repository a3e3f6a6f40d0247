"""WooCommerce REST API client: requests, authentication, error classification. No domain logic."""

from app.woocommerce.auth import AuthMode, OAuth1Auth, QueryStringAuth, make_auth
from app.woocommerce.client import (
    ALL_ORDER_STATUSES,
    BATCH_LIMIT,
    BatchItemResult,
    BatchResult,
    OrderPage,
    WooCommerceClient,
)
from app.woocommerce.errors import (
    AuthenticationError,
    FatalError,
    MalformedResponse,
    NotFoundError,
    RetriableError,
    RouteNotFoundError,
    WooCommerceError,
)
from app.woocommerce.redact import redact

__all__ = [
    "ALL_ORDER_STATUSES",
    "BATCH_LIMIT",
    "AuthMode",
    "AuthenticationError",
    "BatchItemResult",
    "BatchResult",
    "FatalError",
    "MalformedResponse",
    "NotFoundError",
    "OAuth1Auth",
    "OrderPage",
    "QueryStringAuth",
    "RetriableError",
    "RouteNotFoundError",
    "WooCommerceClient",
    "WooCommerceError",
    "make_auth",
    "redact",
]
