"""Paddle's errors, reduced to the few outcomes the run engine acts on.

Everything the Paddle side raises towards its callers is a PaddleProblem: the SDK's ApiError
(Paddle answered with its error envelope), a bare HTTP error (something in between answered,
e.g. a proxy's HTML 502), and requests' connection errors and timeouts (the SDK re-raises those
untouched). `message` says what happened, in Paddle's own words where it gave any; `hint` says
what a person can do about it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.db import models
from django.utils import timezone
from paddle_billing.Exceptions.ApiError import ApiError

# Paddle blocks a client for 60 seconds once it passes the limit; used when no Retry-After came.
DEFAULT_RETRY_AFTER = 60.0


class PaddleProblemKind(models.TextChoices):
    AUTHENTICATION = "AUTHENTICATION", "Authentication failed"
    RATE_LIMITED = "RATE_LIMITED", "Rate limited"
    INVALID_REQUEST = "INVALID_REQUEST", "Invalid request"
    TRANSIENT = "TRANSIENT", "Temporary failure"
    IMMUTABLE = "IMMUTABLE", "Transaction no longer editable"
    NOT_FOUND = "NOT_FOUND", "Not found"
    UNSUPPORTED_BILL = "UNSUPPORTED_BILL", "Bill not supported"
    MISSING_MAPPING = "MISSING_MAPPING", "Missing external mapping"


class PaddleProblem(Exception):
    """Something the run engine decides on by `kind`; `str(problem)` is `message`."""

    def __init__(
        self,
        kind: PaddleProblemKind,
        message: str,
        *,
        hint: str = "",
        retry_after: float | None = None,
        field_errors: list[dict[str, str]] | None = None,
        request_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = PaddleProblemKind(kind)
        self.message = message
        self.hint = hint
        self.retry_after = retry_after
        self.field_errors = list(field_errors or [])
        self.request_id = request_id
        self.status = status  # Paddle's HTTP status, None when Paddle never answered
        self.code = code  # Paddle's error code, e.g. "transaction_immutable"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"PaddleProblem({self.kind!s}, {self.message!r})"

    def as_dict(self) -> dict[str, Any]:
        """A log-safe summary (no request or response bodies)."""
        return {
            "kind": str(self.kind),
            "message": self.message,
            "hint": self.hint,
            "retry_after": self.retry_after,
            "field_errors": self.field_errors,
            "request_id": self.request_id,
            "status": self.status,
            "code": self.code,
        }


_AUTH_HINTS = {
    "invalid_token": "The API key is invalid, revoked or expired. Create a new key in Paddle "
    "(Developer tools > Authentication) and replace it on the credential.",
    "forbidden": "Paddle accepted the key but refuses this request: check that the key belongs "
    "to the right environment (a sandbox key only works with Paddle (Sandbox Mode), a live key "
    "only with Paddle) and that it has the customer, address and transaction read and write "
    "permissions.",
    "authentication_malformed": "The key is not a Paddle API key. API keys start with "
    "pdl_live_apikey_ or pdl_sdbx_apikey_; client-side tokens (test_… / live_…) do not work here.",
    "authentication_missing": "No API key was sent. Replace the key on the credential.",
}
# Setups Paddle refuses, with where to fix them.
_SETUP_HINTS = {
    "product_tax_category_not_approved": "The Tax Category is not approved for your Paddle "
    "account. Ask Paddle to approve it (Paddle > Catalog: a product's tax category shows "
    "whether it is approved), or edit the integration and pick an approved Tax Category "
    "(Standard always is); or map the line's m3ter product to a Paddle product with an "
    "approved category (external mapping Product → Paddle Product, pro_…).",
}
_DEFAULT_AUTH_HINT = (
    "Check the credential's API key in Paddle (Developer tools > Authentication) and replace it "
    "if it was revoked or expired."
)


def problem_from_exception(
    exc: ApiError | requests.RequestException, *, action: str
) -> PaddleProblem:
    """The PaddleProblem for what the SDK raised while `action` (e.g. "creating the
    transaction")."""
    if isinstance(exc, ApiError):
        return _from_api_error(exc, action=action)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        response = exc.response
        return _from_status(response, code=None, detail=response.reason or "", action=action)
    if isinstance(exc, requests.Timeout):
        return PaddleProblem(
            PaddleProblemKind.TRANSIENT,
            f"Paddle did not answer in time while {action}.",
            hint="Paddle may still have applied the request; the next attempt checks for it "
            "before sending again.",
        )
    if isinstance(exc, requests.ConnectionError):
        return PaddleProblem(
            PaddleProblemKind.TRANSIENT,
            f"The connection to Paddle failed while {action}.",
            hint="A network problem or a Paddle outage; it is retried automatically. If it "
            "persists, check that this server can reach the Paddle API.",
        )
    return PaddleProblem(
        PaddleProblemKind.TRANSIENT,
        f"Talking to Paddle failed while {action} ({type(exc).__name__}).",
        hint="It is retried automatically.",
    )


@contextlib.contextmanager
def paddle_errors(action: str) -> Iterator[None]:
    """Turn anything the SDK or requests raise inside the block into a PaddleProblem."""
    try:
        yield
    except (ApiError, requests.RequestException) as exc:
        raise problem_from_exception(exc, action=action) from exc


def _from_api_error(exc: ApiError, *, action: str) -> PaddleProblem:
    response = exc.response
    field_errors = [{"field": fe.field, "message": fe.error} for fe in exc.field_errors]
    problem = _from_status(response, code=exc.error_code, detail=exc.detail, action=action)
    problem.field_errors = field_errors
    if field_errors:
        problem.message += " " + "; ".join(f"{e['field']}: {e['message']}" for e in field_errors)
    return problem


def _from_status(
    response: requests.Response,
    *,
    code: str | None,
    detail: str,
    action: str,
) -> PaddleProblem:
    status = response.status_code
    said = f"{status} {code}: {detail}" if code else f"{status} {detail}".rstrip()
    message = f"While {action}, Paddle answered {said.rstrip('.')}."
    common = {"status": status, "code": code, "request_id": _request_id(response)}
    if status in (401, 403):
        return PaddleProblem(
            PaddleProblemKind.AUTHENTICATION,
            message,
            hint=_AUTH_HINTS.get(code or "", _DEFAULT_AUTH_HINT),
            **common,
        )
    if status == 429:
        return PaddleProblem(
            PaddleProblemKind.RATE_LIMITED,
            message,
            hint="Too many requests for Paddle's limit; it is retried after the wait Paddle "
            "asked for.",
            retry_after=retry_after_seconds(response),
            **common,
        )
    if code == "transaction_immutable":
        return PaddleProblem(
            PaddleProblemKind.IMMUTABLE,
            message,
            hint="The invoice was already issued (billed), paid or canceled in Paddle, so it can "
            "no longer change. Correct it in Paddle with an adjustment or credit note if needed.",
            **common,
        )
    if status == 404:
        return PaddleProblem(
            PaddleProblemKind.NOT_FOUND,
            message,
            hint="The entity does not exist in this Paddle account. Check that the credential "
            "points at the Paddle account (and environment) the id came from.",
            **common,
        )
    if status >= 500:
        return PaddleProblem(
            PaddleProblemKind.TRANSIENT,
            message,
            hint="A problem on Paddle's side; it is retried automatically.",
            **common,
        )
    return PaddleProblem(
        PaddleProblemKind.INVALID_REQUEST,
        message,
        hint=_SETUP_HINTS.get(
            code or "",
            "Paddle refused the request as sent. Correct the data named above (in m3ter or in "
            "the integration's configuration) and send the bill again.",
        ),
        **common,
    )


def _request_id(response: requests.Response) -> str | None:
    try:
        meta = response.json().get("meta") or {}
    except (ValueError, AttributeError):
        meta = {}
    return meta.get("request_id") or response.headers.get("Request-Id")


def retry_after_seconds(response: requests.Response) -> float:
    """Retry-After in seconds: Paddle sends a number, HTTP also allows a date."""
    raw = (response.headers.get("Retry-After") or "").strip()
    if not raw:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
