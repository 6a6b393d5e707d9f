"""Paddle's error envelope and the errors the stand-in raises.

Status codes, codes and wording follow Paddle's error reference
(https://developer.paddle.com/errors/...). Where Paddle's reference is silent the choice is
marked "unverified" so a reader knows it is ours, not Paddle's.
"""

from __future__ import annotations

import uuid
from typing import Any

DOCS = "https://developer.paddle.com/errors"


class PaddleError(Exception):
    """Raised by handlers; the server turns it into Paddle's JSON error response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        type: str = "request_error",
        group: str = "shared",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.type = type
        self.group = group
        self.errors = errors or []
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "detail": self.detail,
            "documentation_url": f"{DOCS}/{self.group}/{self.code}",
        }
        # Paddle sends `errors` only for validation failures.
        if self.errors:
            error["errors"] = self.errors
        return {"error": error, "meta": {"request_id": request_id or str(uuid.uuid4())}}


# --- shared -------------------------------------------------------------------------------------
# Paddle answers every authentication problem with 403, not 401: its reference lists
# authentication_missing, authentication_malformed, invalid_token and forbidden all as 403.


def authentication_missing() -> PaddleError:
    return PaddleError(403, "authentication_missing", "Authentication header missing.")


def authentication_malformed() -> PaddleError:
    return PaddleError(
        403,
        "authentication_malformed",
        "Authentication header included, but incorrectly formatted.",
    )


def invalid_token() -> PaddleError:
    return PaddleError(403, "invalid_token", "Invalid or revoked API key.")


def forbidden() -> PaddleError:
    return PaddleError(403, "forbidden", "You aren't permitted to perform this request.")


def not_found(entity_id: str | None = None) -> PaddleError:
    detail = f"Entity {entity_id} not found" if entity_id else "Requested resource not found"
    return PaddleError(404, "not_found", detail)


def method_not_allowed() -> PaddleError:
    return PaddleError(405, "method_not_allowed", "Method not allowed for this endpoint.")


def bad_request(detail: str) -> PaddleError:
    return PaddleError(400, "bad_request", detail)


def invalid_field(errors: list[dict[str, str]]) -> PaddleError:
    return PaddleError(400, "invalid_field", "Request does not pass validation.", errors=errors)


def too_many_requests(retry_after: int) -> PaddleError:
    # Paddle classes this one as an api_error, unlike the other 4xx codes.
    return PaddleError(
        429,
        "too_many_requests",
        "IP address exceeded the allowed rate limit. "
        "Retry after the number of seconds in the Retry-After header.",
        type="api_error",
        headers={"Retry-After": str(retry_after)},
    )


def internal_error() -> PaddleError:
    return PaddleError(
        500,
        "internal_error",
        "An internal error has occurred, please try again later.",
        type="api_error",
    )


# --- customers ----------------------------------------------------------------------------------


def customer_already_exists(existing_id: str) -> PaddleError:
    return PaddleError(
        409,
        "customer_already_exists",
        f"customer email conflicts with customer of id {existing_id}",
        group="customers",
    )


# --- transactions -------------------------------------------------------------------------------


def transaction_immutable() -> PaddleError:
    return PaddleError(
        400, "transaction_immutable", "Cannot update immutable transaction", group="transactions"
    )


def transaction_invalid_status_change(old: str, new: str) -> PaddleError:
    return PaddleError(
        400,
        "transaction_invalid_status_change",
        f"Invalid attempt to change status from '{old}' to '{new}'",
        group="transactions",
    )


def transaction_billing_details_object_required() -> PaddleError:
    return PaddleError(
        400,
        "transaction_billing_details_object_required",
        "billing_details must be non null if collection_mode=manual",
        group="transactions",
    )


def transaction_currency_code_not_valid_for_manual(currency: str) -> PaddleError:
    # The code is Paddle's (DOMAIN.md); the wording is ours (unverified).
    return PaddleError(
        400,
        "transaction_currency_code_not_valid_for_manual",
        f"Currency code {currency} is not valid for collection_mode=manual. "
        "Valid currency codes: USD, EUR, GBP",
        group="transactions",
    )


def transaction_customer_not_suitable_for_collection_mode() -> PaddleError:
    return PaddleError(
        400,
        "transaction_customer_not_suitable_for_collection_mode",
        "Customer entity must be suitable for the transactions current collection mode",
        group="transactions",
    )


def transaction_address_not_suitable_for_collection_mode() -> PaddleError:
    return PaddleError(
        400,
        "transaction_address_not_suitable_for_collection_mode",
        "Address entity must be suitable for the transactions current collection mode",
        group="transactions",
    )


def transaction_default_checkout_url_not_set() -> PaddleError:
    return PaddleError(
        400,
        "transaction_default_checkout_url_not_set",
        "A Default Payment Link has not yet been defined within the Paddle Dashboard",
        group="transactions",
    )


def transaction_billing_period_starts_at_greater_than_now() -> PaddleError:
    return PaddleError(
        400,
        "transaction_billing_period_starts_at_greater_than_now",
        "billing_period.starts_at cannot be greater than the current time",
        group="transactions",
    )


def archived_entity(field: str, entity_id: str) -> PaddleError:
    # Unverified code and wording: Paddle refuses an archived customer or address on a
    # transaction ("archived entities can't be used for billing"), but its reference names no
    # code for it; a field error names what to fix.
    return invalid_field([{"field": field, "message": f"{entity_id} is archived"}])


def concurrent_modification() -> PaddleError:
    return PaddleError(
        409,
        "concurrent_modification",
        "There were multiple concurrent requests to modify the same entity",
    )
