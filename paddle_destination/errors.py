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
from urllib.parse import urlsplit

import requests
from django.db import models
from django.utils import timezone
from paddle_billing.Exceptions.ApiError import ApiError

from m3terpaddle.text import sentence, sentences

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
    # The host's circuit is open (paddle_destination.circuit): nothing was sent.
    UNAVAILABLE = "UNAVAILABLE", "Paddle unavailable"


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

    @property
    def text(self) -> str:
        """What happened, then what to do about it."""
        return sentences(self.message, self.hint)

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
    "authentication_malformed": "The credential's key is not shaped like a Paddle API key (a key "
    "saved before the hub checked keys, or a client-side token test_… / live_…). Replace it on "
    "the credential (Update Credential) with an API key from Paddle › Developer tools › "
    "Authentication: pdl_live_apikey_… for Paddle, pdl_sdbx_apikey_… for Paddle (Sandbox Mode).",
    "authentication_missing": "No API key was sent. Replace the key on the credential.",
}
# The permissions a key needs for everything the hub does (Paddle › Developer tools ›
# Authentication, per API key). Businesses are made from the account's custom fields (a
# company name or tax number), which the default configuration reads.
NEEDED_PERMISSIONS = (
    "customer.read",
    "customer.write",
    "address.read",
    "address.write",
    "business.read",
    "business.write",
    "transaction.read",
    "transaction.write",
)
# Paddle's setup errors: each says where to fix it, in Paddle or in m3ter.
_SETUP_HINTS = {
    "transaction_default_checkout_url_not_set": "Paddle makes no transaction, invoices "
    "included, until the Paddle account has a default payment link. Set one in Paddle › "
    "Checkout › Checkout settings (its domain must be approved first, under Checkout › Website "
    "approval), then send the bill again.",
    "transaction_customer_not_suitable_for_collection_mode": "Paddle invoices need a customer "
    "with a name. Give the account a name in m3ter (the hub names the Paddle customer after it), "
    "or name the customer in Paddle › Customers, then send the bill again.",
    "transaction_address_not_suitable_for_collection_mode": "Paddle invoices need an address "
    "with a country, first line, city, postal code and region. Complete the account's address in "
    "m3ter, then send the bill again.",
    "transaction_billing_period_starts_at_greater_than_now": "Paddle refuses a billing period "
    "that starts in the future. The hub leaves such a period out, so this means this server's "
    "clock is behind Paddle's: check the server's time (NTP), then send the bill again.",
    "product_tax_category_not_approved": "The Tax Category is not approved for your Paddle "
    "account. Ask Paddle to approve it (Paddle › Catalog: a product's tax category shows "
    "whether it is approved, or Paddle support), or choose the Tax category standard in the "
    "integration's configuration (Stage 3; standard is always approved), or an approved one; "
    "or map the line's m3ter product to a Paddle product with an approved category (external "
    "mapping Product → Paddle Product, pro_…); then send the bill again.",
    "paddle_billing_not_enabled": "This Paddle account cannot use Paddle Billing (a Paddle "
    "Classic account, or onboarding not finished). Finish onboarding in the Paddle dashboard, or "
    "use a key from a Paddle Billing account on the credential.",
}
# Paddle's "someone else changed it at the same moment": trying again is the fix.
_TRANSIENT_CODES = ("concurrent_modification", "conflict")
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
        problem.message = sentences(
            problem.message, "; ".join(f"{e['field']}: {e['message']}" for e in field_errors)
        )
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
    message = sentence(f"While {action}, Paddle answered {said}")
    common = {"status": status, "code": code, "request_id": _request_id(response)}
    if status in (401, 403):
        return PaddleProblem(
            PaddleProblemKind.AUTHENTICATION,
            message,
            hint=_SETUP_HINTS.get(code or "")
            or _AUTH_HINTS.get(code or "")
            or (_forbidden_hint(response) if code == "forbidden" else _DEFAULT_AUTH_HINT),
            **common,
        )
    if status == 429:
        return PaddleProblem(
            PaddleProblemKind.RATE_LIMITED,
            message,
            hint="Paddle limits requests per IP address, and this hub's address passed the limit "
            "(every credential and worker of the hub counts, and anything else calling Paddle "
            "from the same address). It is retried after the wait Paddle asked for; if it "
            "happens often, lower PADDLE_RATE_LIMIT_PER_MINUTE.",
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
    if status >= 500 or code in _TRANSIENT_CODES:
        return PaddleProblem(
            PaddleProblemKind.TRANSIENT,
            message,
            hint="A problem on Paddle's side; it is retried automatically.",
            **common,
        )
    return PaddleProblem(
        PaddleProblemKind.INVALID_REQUEST,
        message,
        hint=_SETUP_HINTS.get(code or "")
        or "Paddle refused the request as sent. Correct the data named above (in m3ter or in the "
        "integration's configuration) and send the bill again.",
        **common,
    )


def permission_needed(method: str, path: str) -> str:
    """The API key permission Paddle checks for a request (its spec's x-permissions): the
    entity the path is about, read for GETs and previews, write otherwise."""
    parts = path.strip("/").split("/")
    entity = {"addresses": "address", "businesses": "business"}.get(
        parts[2] if len(parts) > 2 else ""
    )
    entity = entity or parts[0].rstrip("s")
    reads = method.upper() == "GET" or path.rstrip("/").endswith("/transactions/preview")
    return f"{entity}.{'read' if reads else 'write'}"


def _forbidden_hint(response: requests.Response) -> str:
    request = response.request
    lacking = (
        f"the permission {permission_needed(request.method, urlsplit(request.url).path)}"
        if request is not None and request.method and request.url
        else "a permission"
    )
    return (
        f"Paddle accepted the key, but the key lacks {lacking} for this request. In Paddle › "
        "Developer tools › Authentication, give the key (or a new one) the permissions "
        f"{', '.join(NEEDED_PERMISSIONS)}, and replace it on the credential. A key of the other "
        "environment is refused the same way: a sandbox key works only with Paddle (Sandbox "
        "Mode), a live key only with Paddle."
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
