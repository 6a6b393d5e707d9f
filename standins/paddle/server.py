"""A local HTTP stand-in for the parts of Paddle Billing's API the product uses.

The official SDK (`paddle_billing`) talks to it over real HTTP, so tests, the demo and benchmarks
exercise the same code path as production. It reproduces what matters to a client: request
validation against Paddle's OpenAPI spec plus Paddle's business rules (no transaction without
a default payment link, no billing period starting in the future, no nameless customer on an
invoice, no archived customer or address attached), Paddle's error envelope and codes,
authentication by key shape, environment and API key permissions, the rate limit per client IP
address (shared by every key) with `Retry-After`, and cursor pagination. On top it offers what real
Paddle cannot: injected faults (500s, slow answers, connections dropped after the write was
applied, forced 429s, concurrent_modification), configurable latency, and an inspectable,
resettable state.

    standin = PaddleStandin(mode="sandbox").start()   # port 0 = a free port
    client = paddle_client_for(standin, api_key)     # see standins.paddle.pytest_plugin
    ...
    standin.stop()

Admin endpoints (no auth, not rate limited, not counted):
    GET  /__standin/state                      customers, addresses, transactions, stats, config
    GET  /__standin/requests                   the request log (what clients sent, what they got)
    POST /__standin/reset                      empty state, stats, faults; restore start-up config
    POST /__standin/faults                     push a fault (or a list): {"kind", "method", "path",
                                               "times", "retry_after", "delay", "status",
                                               "write_first"}
    GET|DELETE /__standin/faults               list or clear pending faults
    POST /__standin/transactions/{id}/mark     {"status": "billed"|"paid"|"completed"|...}; sends
                                               the signed webhooks Paddle would (notifications.py),
                                               as creating and updating a transaction through the
                                               API sends transaction.created and .updated
    GET  /__standin/webhooks                   every webhook delivery attempt and its answer
    POST /__standin/config                     {"latency", "rate_limit_per_minute",
                                               "account_tax_mode", "tax_rates",
                                               "default_payment_link", "key_permissions", ...}
    POST /__standin/products                   {"name", "tax_category"}: a catalog product
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import re
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from standins import base as standin_base
from standins.base import StandinServer, json_response

from . import errors, notifications, spec, tax
from .errors import PaddleError
from .ids import is_api_key_shaped
from .notifications import NotificationRoutes, Notifications
from .store import CURRENCY_DECIMALS, ListQuery, Store

log = logging.getLogger(__name__)

FAULT_KINDS = ("http_500", "timeout", "drop_after_write", "rate_limit", "concurrent_modification")
_SERVER_ERRORS = {
    500: ("internal_error", "An internal error has occurred, please try again later."),
    502: ("bad_gateway", "The Paddle API is temporarily unable to handle your request."),
    503: ("service_unavailable", "The Paddle API is temporarily unable to handle your request."),
}


@dataclass
class Config:
    """What the stand-in is told at start-up; `POST /__standin/config` changes it at run time."""

    mode: str = "sandbox"  # "sandbox" or "production": which keys are refused
    # Requests per client address per window, whatever key they carry; None = unlimited.
    rate_limit_per_minute: int | None = 240
    rate_window_seconds: float = 60.0
    block_seconds: float = 60.0  # Paddle blocks for 60 s once the limit is passed
    latency: float = 0.0  # seconds added to every API request
    valid_keys: list[str] | None = None  # None: any well-formed key is accepted
    revoked_keys: list[str] = field(default_factory=list)
    # Deliberate deviation from Paddle, on by default: refuse `status: billed` (create or
    # PATCH). Paddle would issue the invoice and e-mail the customer; the product must only ever
    # make drafts, so a test that trips this has found a bug. Tests that need a billed
    # transaction use mark_transaction().
    refuse_billed: bool = True
    # The Paddle account's tax settings (see tax.py): rates per country in percent, what
    # `tax_mode: account_setting` means ("internal": prices include tax, the strict choice for a
    # client sending net amounts), and the tax categories Paddle approved beyond `standard`.
    tax_rates: dict[str, str] = field(default_factory=lambda: dict(tax.DEFAULT_TAX_RATES))
    account_tax_mode: str = "internal"
    approved_tax_categories: list[str] = field(default_factory=list)

    @property
    def pricing(self) -> tax.Pricing:
        return tax.Pricing(
            tax_rates=dict(self.tax_rates),
            account_tax_mode=self.account_tax_mode,
            approved_tax_categories=tuple(self.approved_tax_categories),
        )

    # Whether the account has a default payment link (Paddle › Checkout settings). Without one
    # Paddle refuses to create any transaction (transaction_default_checkout_url_not_set).
    default_payment_link: bool = True
    # The permissions of particular keys ({key: ["customer.read", ...]}); keys not listed may do
    # everything. A request without the permission its operation needs is 403 `forbidden`,
    # before its body is looked at.
    key_permissions: dict[str, list[str]] | None = None

    def update(self, **changes: Any) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if changes.get("mode", self.mode) not in ("sandbox", "production"):
            raise ValueError("mode must be 'sandbox' or 'production'")
        if changes.get("account_tax_mode", self.account_tax_mode) not in tax.TAX_MODES:
            raise ValueError(f"account_tax_mode must be one of {tax.TAX_MODES}")
        for key, value in changes.items():
            setattr(self, key, value)


@dataclass
class Fault(standin_base.Fault):
    """A failure to inject into the next matching request(s).

    kind:  http_500          answer 500 internal_error (or `status` 502/503); nothing is applied
           timeout           sleep `delay` seconds, then handle the request normally (a client
                             with a shorter timeout gives up; the write still lands). With
                             `write_first` the write is applied before the sleep.
           drop_after_write  apply the request, then close the connection without answering:
                             the client sees a connection error although the write happened
           rate_limit        answer 429 too_many_requests with `Retry-After: retry_after`
           concurrent_modification  answer 409 concurrent_modification; nothing is applied
    method/path, times: see standin_base.Fault ("" = any API path).
    """

    kinds: ClassVar[tuple[str, ...]] = FAULT_KINDS

    retry_after: int = 60
    delay: float = 5.0
    status: int = 500
    write_first: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind == "http_500" and self.status not in _SERVER_ERRORS:
            raise ValueError(f"http_500 status must be one of {sorted(_SERVER_ERRORS)}")


@dataclass
class _Bucket:
    window_start: float
    count: int = 0
    blocked_until: float = 0.0


class _DropConnection(ConnectionError):
    """Raised after the socket is shut: werkzeug treats ConnectionError as a dropped client."""


# (method, route template, pattern, handler name). Templates key the stats and the spec lookup.
_ROUTES = [
    ("GET", "/customers", "list_customers"),
    ("POST", "/customers", "create_customer"),
    ("GET", "/customers/{customer_id}", "get_customer"),
    ("GET", "/customers/{customer_id}/addresses", "list_addresses"),
    ("PATCH", "/customers/{customer_id}", "update_customer"),
    ("POST", "/customers/{customer_id}/addresses", "create_address"),
    ("GET", "/customers/{customer_id}/businesses", "list_businesses"),
    ("POST", "/customers/{customer_id}/businesses", "create_business"),
    ("GET", "/customers/{customer_id}/businesses/{business_id}", "get_business"),
    ("PATCH", "/customers/{customer_id}/businesses/{business_id}", "update_business"),
    ("GET", "/customers/{customer_id}/addresses/{address_id}", "get_address"),
    ("PATCH", "/customers/{customer_id}/addresses/{address_id}", "update_address"),
    # Before /transactions/{transaction_id}, which would otherwise take "preview" for an id.
    ("POST", "/transactions/preview", "preview_transaction"),
    ("GET", "/transactions", "list_transactions"),
    ("POST", "/transactions", "create_transaction"),
    ("GET", "/transactions/{transaction_id}", "get_transaction"),
    ("PATCH", "/transactions/{transaction_id}", "update_transaction"),
    ("GET", "/event-types", "list_event_types"),
    # Not in the 2025-05 spec but the SDK calls it (client.currencies.list()).
    ("GET", "/currencies", "list_currencies"),
    *notifications.ROUTES,
]


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


_COMPILED = [(m, t, _compile(t), h) for m, t, h in _ROUTES]
_ADMIN_MARK = re.compile(r"^/__standin/transactions/(?P<transaction_id>[^/]+)/mark$")

_EVENT_TYPES = [
    ("transaction.billed", "Transaction", "Occurs when a transaction is billed."),
    ("transaction.canceled", "Transaction", "Occurs when a transaction is canceled."),
    ("transaction.completed", "Transaction", "Occurs when a transaction is completed."),
    ("transaction.created", "Transaction", "Occurs when a transaction is created."),
    ("transaction.paid", "Transaction", "Occurs when a transaction is paid."),
    ("transaction.past_due", "Transaction", "Occurs when a transaction becomes past due."),
    ("transaction.ready", "Transaction", "Occurs when a transaction is ready to be billed."),
    ("transaction.revised", "Transaction", "Occurs when a transaction is revised."),
    ("transaction.updated", "Transaction", "Occurs when a transaction is updated."),
    ("customer.created", "Customer", "Occurs when a customer is created."),
    ("customer.updated", "Customer", "Occurs when a customer is updated."),
    ("address.created", "Address", "Occurs when an address is created."),
    ("address.updated", "Address", "Occurs when an address is updated."),
]


class PaddleStandin(NotificationRoutes, StandinServer):
    """The stand-in server. Thread-safe; one instance can serve many clients and tests."""

    fault_class = Fault
    thread_name = "paddle-standin"
    request_log_limit = 10_000

    def __init__(
        self,
        mode: str = "sandbox",
        rate_limit_per_minute: int | None = 240,
        latency: float = 0.0,
        block_seconds: float = 60.0,
        valid_keys: list[str] | set[str] | None = None,
        *,
        revoked_keys: list[str] | set[str] = (),
        rate_window_seconds: float = 60.0,
        refuse_billed: bool = True,
    ) -> None:
        super().__init__()  # its _lock also guards buckets and stats (the store has its own)
        self.config = Config()
        self.config.update(
            mode=mode,
            rate_limit_per_minute=rate_limit_per_minute,
            latency=latency,
            block_seconds=block_seconds,
            valid_keys=list(valid_keys) if valid_keys is not None else None,
            revoked_keys=list(revoked_keys),
            rate_window_seconds=rate_window_seconds,
            refuse_billed=refuse_billed,
        )
        self._initial_config = copy.deepcopy(self.config)
        self.state = Store()
        self.notifications = Notifications(_EVENT_TYPES)
        self._buckets: dict[str, _Bucket] = {}
        self._reset_stats()
        # API requests being handled; reset() waits for them so that a request still sleeping
        # in a `timeout` fault cannot write into the next test's fresh state.
        self._in_flight = 0
        self._idle = threading.Condition()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> PaddleStandin:
        # Load the spec now rather than inside the first request (about 0.4 s).
        spec.warm_up()
        return super().start(host, port)

    # --- test helpers ---------------------------------------------------------------------------

    def reset(self, wait: float = 10.0) -> None:
        """Forget everything a test did: state, stats, faults, rate-limit blocks, config.

        Waits up to `wait` seconds for requests still being handled (e.g. sleeping in a
        `timeout` fault after their client gave up) so they land before the wipe, not after.
        """
        self.wait_idle(wait)
        self.state.reset()
        self.notifications.reset()
        with self._lock:
            self._faults.clear()
            self._buckets.clear()
            self._reset_stats()
            self.config = copy.deepcopy(self._initial_config)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no API request is being handled; False if `timeout` ran out first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def configure(self, **changes: Any) -> None:
        """Change config at run time, e.g. configure(latency=0.2, rate_limit_per_minute=5)."""
        with self._lock:
            if "valid_keys" in changes and changes["valid_keys"] is not None:
                changes["valid_keys"] = list(changes["valid_keys"])
            if "revoked_keys" in changes:
                changes["revoked_keys"] = list(changes["revoked_keys"])
            self.config.update(**changes)
            if {"rate_limit_per_minute", "rate_window_seconds", "block_seconds"} & set(changes):
                self._buckets.clear()

    def mark_transaction(self, transaction_id: str, status: str) -> dict[str, Any]:
        """Move a transaction on as Paddle would out of band (invoice issued, paid, ...), and send
        the webhooks Paddle would."""
        allowed = ("billed", "paid", "completed", "canceled", "past_due", "draft", "ready")
        if status not in allowed:
            raise ValueError(f"status must be one of {allowed}")
        transaction = self.state.mark_transaction(transaction_id, status)
        self.notifications.transaction_moved(transaction)
        return transaction

    def add_product(self, name: str, tax_category: str = "standard") -> dict[str, Any]:
        """A catalog product, as a merchant makes it in Paddle's dashboard; its tax category must
        be approved on the account (configure(approved_tax_categories=[...]))."""
        with self._lock:
            pricing = self.config.pricing
        return self.state.create_product(name=name, tax_category=tax_category, pricing=pricing)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._stats["total"],
                "by_route": dict(self._stats["by_route"]),
                "by_status": {str(k): v for k, v in self._stats["by_status"].items()},
                "by_code": dict(self._stats["by_code"]),
                "rate_limited": self._stats["by_status"].get(429, 0),
                "faults_fired": dict(self._stats["faults_fired"]),
            }

    def request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen, optionally for one method and/or route (template or concrete path)."""
        with self._lock:
            entries = list(self._log)
        return sum(
            1
            for e in entries
            if (method is None or e["method"] == method.upper())
            and (path is None or path in (e["path"], e["route"]))
        )

    def dump(self) -> dict[str, Any]:
        with self._lock:
            config = asdict(self.config)
            faults = [asdict(f) for f in self._faults]
        return {**self.state.dump(), "requests": self.stats(), "config": config, "faults": faults}

    def _reset_stats(self) -> None:
        self._stats: dict[str, Any] = {
            "total": 0,
            "by_route": Counter(),
            "by_status": Counter(),
            "by_code": Counter(),
            "faults_fired": Counter(),
        }
        self._log: list[dict[str, Any]] = []

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any):
        request = Request(environ)
        if request.path.startswith("/__standin/"):
            response = self._admin(request)
            return response(environ, start_response)
        with self._idle:
            self._in_flight += 1
        try:
            response = self._api(request, environ)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
        return response(environ, start_response)

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        request_id = str(uuid.uuid4())
        method, path = request.method, request.path
        route, handler, params = self._route(method, path)
        entry = self._log_request(
            request,
            route,
            body=_json_or_text(request.get_data(cache=True)),
            code=None,
            request_id=request_id,
            at=time.time(),
        )
        with self._lock:
            self._stats["total"] += 1
            self._stats["by_route"][f"{method} {route or path}"] += 1
            config = copy.copy(self.config)

        if config.latency:
            time.sleep(config.latency)
        try:
            # Counted before authentication: Paddle limits by IP, so refused requests count too.
            retry_after = self._rate_limit(request, config)
            if retry_after is not None:
                raise errors.too_many_requests(retry_after)
            self._authenticate(request, config)
            self._authorize(request, config, route)
            fault = self._take_fault(method, path)
            if fault is not None and fault.kind == "rate_limit":
                raise errors.too_many_requests(fault.retry_after)
            if fault is not None and fault.kind == "concurrent_modification":
                raise errors.concurrent_modification()
            if fault is not None and fault.kind == "http_500":
                code, detail = _SERVER_ERRORS[fault.status]
                raise PaddleError(fault.status, code, detail, type="api_error")
            if fault is not None and fault.kind == "timeout" and not fault.write_first:
                time.sleep(fault.delay)
            if route is None:
                raise PaddleError(404, "invalid_url", "The URL you have called is invalid.")
            if handler is None:
                raise errors.method_not_allowed()
            status, payload = getattr(self, "_h_" + handler)(request, route, params, config)
            if fault is not None and fault.kind == "timeout" and fault.write_first:
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "drop_after_write":
                self._finish(entry, 0, "connection_dropped")
                _drop(environ)
            self._finish(entry, status, None)
            if status == 204:
                return Response(status=204, headers={"Request-Id": request_id})
            body = {"data": payload.pop("data"), "meta": {"request_id": request_id, **payload}}
            return json_response(status, body, {"Request-Id": request_id})
        except PaddleError as exc:
            self._finish(entry, exc.status, exc.code)
            headers = {"Request-Id": request_id, **exc.headers}
            return json_response(exc.status, exc.body(request_id), headers)
        except _DropConnection:
            raise
        except Exception:
            log.exception("paddle stand-in: unhandled error on %s %s", method, path)
            exc = errors.internal_error()
            self._finish(entry, exc.status, exc.code)
            return json_response(exc.status, exc.body(request_id), {"Request-Id": request_id})

    def _finish(self, entry: dict[str, Any], status: int, code: str | None) -> None:
        with self._lock:
            entry["status"], entry["code"] = status, code
            self._stats["by_status"][status] += 1
            if code:
                self._stats["by_code"][code] += 1

    def _route(self, method: str, path: str) -> tuple[str | None, str | None, dict[str, str]]:
        template_seen = None
        for route_method, template, pattern, handler in _COMPILED:
            match = pattern.match(path)
            if match:
                template_seen = template
                if route_method == method:
                    return template, handler, match.groupdict()
        return template_seen, None, {}

    def _rate_limit(self, request: Request, config: Config) -> int | None:
        """Seconds the client must wait, or None. Every request counts, refused ones too."""
        limit = config.rate_limit_per_minute
        if not limit:
            return None
        # Per client address, as Paddle counts: every key sent from one address shares it.
        key = request.remote_addr or "-"
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(window_start=now))
            if now < bucket.blocked_until:
                return max(1, math.ceil(bucket.blocked_until - now))
            if bucket.blocked_until and now >= bucket.blocked_until:
                bucket.blocked_until = 0.0
                bucket.window_start, bucket.count = now, 0
            if now - bucket.window_start >= config.rate_window_seconds:
                bucket.window_start, bucket.count = now, 0
            bucket.count += 1
            if bucket.count > limit:
                bucket.blocked_until = now + config.block_seconds
                return max(1, math.ceil(config.block_seconds))
        return None

    def _authenticate(self, request: Request, config: Config) -> None:
        header = request.headers.get("Authorization")
        if not header:
            raise errors.authentication_missing()
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            raise errors.authentication_malformed()
        # A token that cannot be an API key: Paddle answers 403 authentication_malformed ("the
        # API couldn't understand it", its error reference), as it does to a client-side token
        # (test_…/live_…, for Paddle.js) sent as one (paddle-node-sdk issues #16 and #39). A
        # well-formed key it does not know is 403 invalid_token below. Which tokens Paddle cannot
        # understand is not published; the stand-in takes the spec's api_key pattern (unverified
        # beyond it).
        if not is_api_key_shaped(token):
            raise errors.authentication_malformed()
        if token in config.revoked_keys:
            raise errors.invalid_token()
        # A key for the other environment. Paddle's reference lists this among the causes of
        # invalid_token, but the API observably answers 403 `forbidden` ("You aren't permitted
        # to perform this request", paddle-node-sdk issue #177, 2025). Both are 403; we follow
        # the observed behaviour.
        if config.mode == "sandbox" and "pdl_live_" in token:
            raise errors.forbidden()
        if config.mode == "production" and "pdl_sdbx_" in token:
            raise errors.forbidden()
        if config.valid_keys is not None and token not in config.valid_keys:
            raise errors.invalid_token()

    def _authorize(self, request: Request, config: Config, route: str | None) -> None:
        token = request.headers["Authorization"].strip().partition(" ")[2].strip()
        granted = (config.key_permissions or {}).get(token)
        if granted is None or route is None:
            return
        if not set(spec.permissions(request.method, route)) <= set(granted):
            raise errors.forbidden()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        fault = super()._take_fault(method, path)
        if fault is not None:
            with self._lock:
                self._stats["faults_fired"][fault.kind] += 1
        return fault

    # --- API handlers: return (status, {"data": ..., extra meta...}) -----------------------------

    def _body(self, request: Request, route: str) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if raw and request.mimetype != "application/json":
            raise PaddleError(
                415, "unsupported_media_type", "The request has an invalid Content-Type header"
            )
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise PaddleError(400, "invalid_json", "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise PaddleError(400, "invalid_json", "Request body must be a JSON object")
        field_errors = spec.validate_body(request.method, route, json.dumps(body).encode())
        if field_errors:
            raise errors.invalid_field(field_errors)
        return body

    def _list_query(self, request: Request) -> ListQuery:
        args = {k: v for k, v in request.args.items()}
        return ListQuery(args, base_url=request.base_url)

    def _h_list_customers(self, request, route, params, config):
        data, pagination = self.state.list_customers(self._list_query(request))
        return 200, {"data": data, "pagination": pagination}

    def _h_create_customer(self, request, route, params, config):
        return 201, {"data": self.state.create_customer(self._body(request, route))}

    def _h_get_customer(self, request, route, params, config):
        return 200, {"data": self.state.get_customer(params["customer_id"])}

    def _h_update_customer(self, request, route, params, config):
        body = self._body(request, route)
        return 200, {"data": self.state.update_customer(params["customer_id"], body)}

    def _h_get_address(self, request, route, params, config):
        address = self.state.get_address(params["customer_id"], params["address_id"])
        return 200, {"data": address}

    def _h_update_address(self, request, route, params, config):
        body = self._body(request, route)
        address = self.state.update_address(params["customer_id"], params["address_id"], body)
        return 200, {"data": address}

    def _h_preview_transaction(self, request, route, params, config):
        return 200, {
            "data": self.state.preview_transaction(
                self._body(request, route), pricing=config.pricing
            )
        }

    def _h_list_addresses(self, request, route, params, config):
        data, pagination = self.state.list_addresses(
            params["customer_id"], self._list_query(request)
        )
        return 200, {"data": data, "pagination": pagination}

    def _h_create_address(self, request, route, params, config):
        body = self._body(request, route)
        return 201, {"data": self.state.create_address(params["customer_id"], body)}

    def _h_list_businesses(self, request, route, params, config):
        data, pagination = self.state.list_businesses(
            params["customer_id"], self._list_query(request)
        )
        return 200, {"data": data, "pagination": pagination}

    def _h_create_business(self, request, route, params, config):
        body = self._body(request, route)
        return 201, {"data": self.state.create_business(params["customer_id"], body)}

    def _h_get_business(self, request, route, params, config):
        return 200, {"data": self.state.get_business(params["customer_id"], params["business_id"])}

    def _h_update_business(self, request, route, params, config):
        body = self._body(request, route)
        business = self.state.update_business(params["customer_id"], params["business_id"], body)
        return 200, {"data": business}

    def _h_list_transactions(self, request, route, params, config):
        data, pagination = self.state.list_transactions(self._list_query(request))
        include = _csv(request.args.get("include"))
        data = [self.state.includes(t, include) for t in data]
        return 200, {"data": data, "pagination": pagination}

    def _h_create_transaction(self, request, route, params, config):
        body = self._body(request, route)
        txn = self.state.create_transaction(
            body,
            refuse_billed=config.refuse_billed,
            pricing=config.pricing,
            default_payment_link=config.default_payment_link,
        )
        # Paddle tells its notification settings of changes made through the API as well.
        self.notifications.emit("transaction.created", txn)
        return 201, {"data": self.state.includes(txn, _csv(request.args.get("include")))}

    def _h_get_transaction(self, request, route, params, config):
        txn = self.state.get_transaction(params["transaction_id"])
        return 200, {"data": self.state.includes(txn, _csv(request.args.get("include")))}

    def _h_update_transaction(self, request, route, params, config):
        body = self._body(request, route)
        txn = self.state.update_transaction(
            params["transaction_id"],
            body,
            refuse_billed=config.refuse_billed,
            pricing=config.pricing,
        )
        self.notifications.emit("transaction.updated", txn)
        return 200, {"data": self.state.includes(txn, _csv(request.args.get("include")))}

    def _h_list_event_types(self, request, route, params, config):
        data = [
            {"name": n, "description": d, "group": g, "available_versions": [1]}
            for n, g, d in _EVENT_TYPES
        ]
        return 200, {"data": data}

    def _h_list_currencies(self, request, route, params, config):
        data = [
            {
                "code": code,
                "name": code,
                "decimal_places": places,
                "can_be_balance": code in ("USD", "EUR", "GBP"),
                "applicable_countries": [],
                "minimum_payment_amount": "70" if places else "1",
            }
            for code, places in CURRENCY_DECIMALS.items()
        ]
        return 200, {"data": data}

    # --- admin ----------------------------------------------------------------------------------

    def _admin(self, request: Request) -> Response:
        path, method = request.path, request.method
        try:
            body = request.get_json(silent=True) or {}
            if path == "/__standin/state" and method == "GET":
                return json_response(200, self.dump())
            if path == "/__standin/webhooks" and method == "GET":
                return json_response(200, {"deliveries": self.notifications.sent()})
            if path == "/__standin/requests" and method == "GET":
                return json_response(200, {"requests": self.requests})
            if path == "/__standin/reset" and method == "POST":
                self.reset()
                return json_response(200, {"ok": True})
            if path == "/__standin/config" and method == "POST":
                self.configure(**body)
                with self._lock:
                    return json_response(200, asdict(self.config))
            if path == "/__standin/faults":
                if method == "GET":
                    return json_response(200, {"faults": [asdict(f) for f in self.faults]})
                if method == "DELETE":
                    self.clear_faults()
                    return json_response(200, {"ok": True})
                if method == "POST":
                    specs = body if isinstance(body, list) else [body]
                    pushed = [self.push_fault(**dict(s)) for s in specs]
                    return json_response(201, {"faults": [asdict(f) for f in pushed]})
            if path == "/__standin/products" and method == "POST":
                return json_response(201, {"data": self.add_product(**body)})
            match = _ADMIN_MARK.match(path)
            if match and method == "POST":
                txn = self.mark_transaction(match["transaction_id"], body.get("status", ""))
                return json_response(200, {"data": txn})
            return json_response(404, {"error": f"no admin endpoint {method} {path}"})
        except PaddleError as exc:
            return json_response(exc.status, exc.body())
        except (TypeError, ValueError) as exc:
            return json_response(400, {"error": str(exc)})


def _csv(value: str | None) -> list[str]:
    return [v for v in value.split(",") if v] if value else []


def _json_or_text(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection without a response (the write has already been applied)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise _DropConnection("stand-in dropped the connection after applying the write")
