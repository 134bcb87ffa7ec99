"""Every error `code` the API can answer, one member per meaning, published as an enum in the schema.

Services raise `DomainError(code=ErrorCode.X)` (shopapi/exceptions.py); the exception handler also
maps DRF's and simplejwt's own codes onto these members, so an integrator's generated client sees
the complete list. A new code is added here, and nowhere else.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    # Generic, produced by the framework (DRF, simplejwt) and the exception handler.
    INVALID = "invalid"
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - an error code, not a secret
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an error code, not a secret
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    CONFLICT = "conflict"
    SERVER_ERROR = "server_error"

    # Accounts (accounts/services/).
    PASSWORD_RESET_INVALID = "password_reset_invalid"  # noqa: S105 - reset link wrong, used or expired, 400
    EMAIL_VERIFICATION_INVALID = "email_verification_invalid"  # tampered, or for another address, 400
    EMAIL_VERIFICATION_EXPIRED = "email_verification_expired"  # older than its max age: resend, 400
    EMAIL_ALREADY_VERIFIED = "email_already_verified"  # resend asked for a verified address, 409

    # Catalog.
    SEARCH_TOO_BROAD = "search_too_broad"

    # Carts.
    CART_NOT_FOUND = "cart_not_found"
    CART_ITEM_NOT_FOUND = "cart_item_not_found"
    CART_CHECKED_OUT = "cart_checked_out"
    CART_EMPTY = "cart_empty"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    VARIANT_REQUIRED = "variant_required"
    INSUFFICIENT_STOCK = "insufficient_stock"
    CURRENCY_MISMATCH = "currency_mismatch"
    INVALID_QUANTITY = "invalid_quantity"
    QUANTITY_TOO_LARGE = "quantity_too_large"
    LINE_TOTAL_TOO_LARGE = "line_total_too_large"
    CART_TOTAL_TOO_LARGE = "cart_total_too_large"
    CART_TOO_MANY_LINES = "cart_too_many_lines"
    CART_HAS_PENDING_ORDER = (
        "cart_has_pending_order"  # a guest cart with a pending order can't be claimed, 409
    )

    # Checkout and orders.
    ORDER_TOO_LARGE = "order_too_large"
    ORDER_TOO_SMALL = "order_too_small"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_PENDING = "order_not_pending"
    ORDER_ALREADY_PAID = "order_already_paid"
    ORDER_PAYMENT_FAILED = "order_payment_failed"
    ORDER_NUMBER_EXHAUSTED = "order_number_exhausted"
    CART_ALREADY_PAID = "cart_already_paid"
    PAYMENT_IN_PROGRESS = "payment_in_progress"

    # Refunds (staff).
    ORDER_NOT_REFUNDABLE = "order_not_refundable"
    REFUND_AMOUNT_INVALID = "refund_amount_invalid"
    REFUND_STALE = "refund_stale"
    REFUND_RACE = "refund_race"
    REFUND_REFUSED = "refund_refused"
    CHARGE_ALREADY_REFUNDED = "charge_already_refunded"
    AMOUNT_TOO_LARGE = "amount_too_large"

    # Shipments (staff).
    ORDER_NOT_SHIPPABLE = "order_not_shippable"
    SHIPMENT_QUANTITY_INVALID = "shipment_quantity_invalid"
    SHIPMENT_ALREADY_DELIVERED = "shipment_already_delivered"

    # The payment provider.
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    PAYMENT_PROVIDER_MISCONFIGURED = "payment_provider_misconfigured"
    INVALID_SIGNATURE = "invalid_signature"
    SERVICE_UNAVAILABLE = "service_unavailable"  # the database is unreachable; retry after Retry-After
    REQUEST_TOO_LARGE = "request_too_large"  # body over the endpoint's limit (shopapi/limits.py), 413
    INVALID_HOST = "invalid_host"  # Host header not in ALLOWED_HOSTS (shopapi/limits.py), 400

    # Idempotency-Key on our own writes (idempotency/middleware.py).
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"  # not 1-255 printable ASCII characters, 400
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # same key, another method/path/body, 422
    IDEMPOTENCY_KEY_IN_PROGRESS = "idempotency_key_in_progress"  # the first is still running, 409

    @classmethod
    def known(cls, value: str) -> ErrorCode | None:
        """The member for `value`, or None when no member has it."""
        try:
            return cls(value)
        except ValueError:
            return None


# The values in declaration order: the schema's `ErrorCodeEnum` (settings.SPECTACULAR_SETTINGS).
ERROR_CODES = [member.value for member in ErrorCode]
