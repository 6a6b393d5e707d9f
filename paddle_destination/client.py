"""The official Paddle SDK client for a credential, configured for this hub.

- Base URL per destination from settings (PADDLE_API_URL / PADDLE_SANDBOX_API_URL), so the
  stand-in or a proxy can take Paddle's place. The SDK builds every request URL as
  `urljoin(client.options.environment.base_url, path)` and reads nothing else from the
  environment, and `Environment.base_url` is a property keyed on the enum value: a subclass
  that overrides the property is all it takes (the object is still an `Environment`, with
  `.value` for logs).
- Connect and read timeouts from settings.
- No retries by the SDK: the run engine owns retries (and must reconcile before re-sending a
  write whose answer was lost). Passing our own session as `http_client` is what turns them
  off: the SDK mounts its retrying adapter only on the session it builds itself.
- Every request first waits for its slot on the rate limiter of its Paddle API host; a 429
  pushes that host's next slot past Paddle's Retry-After. Paddle limits per client IP address,
  so every credential, integration and worker of the hub draws on the one budget of the host.
- Nothing secret is logged: the SDK's own body-logging hook is only installed on the session it
  builds, and this session logs one line per request (method, path, status, timing), never
  keys, query strings (they can hold an e-mail) or bodies; it counts them for /metrics. It
  remembers a redacted summary of the last exchange (method, path, status, request id,
  duration) for the run log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from paddle_billing import Client, Environment, Options
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Shared.Operations import Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.crypto import SecretDecryptionError
from credentials.models import Destination, IntegrationCredential
from ops.metrics import paddle_request_observe
from paddle_destination.circuit import (
    circuit_before_request,
    circuit_problem,
    circuit_record_failure,
    circuit_record_success,
)
from paddle_destination.errors import (
    NEEDED_PERMISSIONS,
    PaddleProblem,
    PaddleProblemKind,
    paddle_errors,
    retry_after_seconds,
)
from paddle_destination.hosts import paddle_api_url, paddle_host
from paddle_destination.models import CircuitState
from paddle_destination.ratelimit import RateLimiter

PADDLE_API_VERSION = 1
USER_AGENT = "m3terpaddle (paddle-python-sdk)"

# The SDK logs every failed request's URL (which can carry a customer's e-mail) and, at DEBUG,
# whole bodies. It gets a logger of its own that emits nothing: our PaddleProblem says the same,
# redacted. Made directly rather than with getLogger, so no logging configuration can turn it on.
logger = logging.getLogger(__name__)
_SDK_LOG = logging.Logger("paddle_destination.sdk", level=logging.CRITICAL + 1)

_ENVIRONMENTS = {Destination.PADDLE: "production", Destination.PADDLE_SANDBOX: "sandbox"}


class UrlEnvironment(Environment):
    """An Environment whose base URL is given, e.g. a stand-in at http://127.0.0.1:8081."""

    def __init__(self, base_url: str, like: str = "sandbox") -> None:
        super().__init__(like)
        self._base_url = base_url.rstrip("/")

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return f"<UrlEnvironment {self.value} {self._base_url}>"


@dataclass(frozen=True)
class Exchange:
    """What one request looked like, without anything secret or any body."""

    method: str
    path: str
    status: int | None
    request_id: str | None
    duration_ms: int
    waited_ms: int

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_id": self.request_id,
            "duration_ms": self.duration_ms,
            "rate_limit_wait_ms": self.waited_ms,
        }


class PaddleSession(requests.Session):
    """A requests session that authenticates, waits for the rate limiter, and logs nothing."""

    def __init__(self, api_key: str, limiter: RateLimiter) -> None:
        super().__init__()
        self.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json",
                "Paddle-Version": str(PADDLE_API_VERSION),
                "User-Agent": USER_AGENT,
            }
        )
        self.limiter = limiter
        self.exchanges: list[Exchange] = []

    def request(self, method, url, *args, **kwargs):
        host = paddle_host(url)
        circuit_watched = circuit_before_request(host=host)
        waited = self.limiter.acquire()
        started = time.monotonic()
        status = request_id = None
        try:
            response = super().request(method, url, *args, **kwargs)
            status = response.status_code
            request_id = response.headers.get("Request-Id")
            if status == 429:
                self.limiter.hold_off(retry_after_seconds(response))
        except requests.RequestException as exc:
            self._circuit_failed(host, f"no answer: {type(exc).__name__}")
            raise
        finally:
            self._record(method.upper(), url, status, request_id, started, waited)
        if status >= 500:
            self._circuit_failed(host, f"HTTP {status}")
        elif circuit_watched:
            circuit_record_success(host=host)
        return response

    @staticmethod
    def _circuit_failed(host: str, failure: str) -> None:
        """Count the failure; raise PaddleProblem(UNAVAILABLE) once the circuit is open, so the
        run waits for Paddle instead of spending an attempt."""
        circuit = circuit_record_failure(host=host, failure=failure)
        if circuit.state == CircuitState.OPEN:
            raise circuit_problem(circuit)

    def _record(self, method, url, status, request_id, started, waited) -> None:
        parts = urlsplit(url)
        duration = time.monotonic() - started
        logger.info(
            "Paddle %s %s answered %s in %.0f ms (waited %.0f ms for the rate limit).",
            method,
            parts.path,
            status or "nothing",
            duration * 1000,
            waited * 1000,
        )
        paddle_request_observe(
            host=parts.hostname or "", method=method, path=parts.path, status=status, waited=waited
        )
        self.exchanges.append(
            Exchange(
                method=method,
                path=parts.path,
                status=status,
                request_id=request_id,
                duration_ms=round(duration * 1000),
                waited_ms=round(waited * 1000),
            )
        )

    def __repr__(self) -> str:
        # Never the headers: they hold the key.
        return f"<PaddleSession limiter={self.limiter.key}>"


def paddle_client_build(
    *,
    api_key: str,
    destination: str,
    limiter: RateLimiter,
) -> Client:
    """An SDK client for one key and environment, its requests paced by `limiter`."""
    environment = UrlEnvironment(paddle_api_url(destination), _ENVIRONMENTS[destination])
    return Client(
        api_key,
        options=Options(environment),
        http_client=PaddleSession(api_key, limiter),
        logger=_SDK_LOG,
        retry_count=0,
        use_api_version=PADDLE_API_VERSION,
        timeout=(settings.PADDLE_CONNECT_TIMEOUT, settings.PADDLE_READ_TIMEOUT),
    )


def paddle_rate_limiter(destination: str) -> RateLimiter:
    """The one limiter for the Paddle API host `destination` talks to, shared by every
    credential and worker: Paddle counts requests per IP address, not per key."""
    return RateLimiter(f"host:{urlsplit(paddle_api_url(destination)).netloc}")


def paddle_client(*, credential: IntegrationCredential) -> Client:
    """The SDK client for a stored credential, rate-limited per Paddle API host.

    Raises PaddleProblem(AUTHENTICATION) when the stored key cannot be decrypted (the
    encryption keys changed without a rotation)."""
    try:
        api_key = credential.api_key()
    except SecretDecryptionError as exc:
        raise PaddleProblem(
            PaddleProblemKind.AUTHENTICATION,
            f"The API key of the credential {credential.name!r} cannot be decrypted.",
            hint=str(exc) + " Or replace the key on the credential.",
        ) from exc
    return paddle_client_build(
        api_key=api_key,
        destination=credential.destination,
        limiter=paddle_rate_limiter(credential.destination),
    )


def paddle_connection_check(client: Client) -> None:
    """One cheap authenticated GET: a page of one transaction. It needs the transaction read
    permission, which delivering invoices needs anyway, so a key lacking it fails here rather
    than on the first bill. Raises what the SDK raises."""
    client.transactions.list(ListTransactions(pager=Pager(per_page=1)))


# A customer id no account has: probes that name one change nothing.
_NO_CUSTOMER = "ctm_" + "0" * 26
# The request each permission the hub needs is probed with. Writes are probed with an empty
# body: Paddle checks the key's permission before the body, so a key allowed to write gets 400
# (invalid) and nothing is created, a key that is not gets 403 forbidden. Reads of one
# customer's addresses or businesses ask for a customer that does not exist: 404 when allowed.
# transaction.read is the connection check's.
_PERMISSION_PROBES = {
    "customer.read": ("GET", "/customers?per_page=1"),
    "customer.write": ("POST", "/customers"),
    "address.read": ("GET", f"/customers/{_NO_CUSTOMER}/addresses"),
    "address.write": ("POST", f"/customers/{_NO_CUSTOMER}/addresses"),
    "business.read": ("GET", f"/customers/{_NO_CUSTOMER}/businesses"),
    "business.write": ("POST", f"/customers/{_NO_CUSTOMER}/businesses"),
    "transaction.read": None,
    "transaction.write": ("POST", "/transactions"),
}


def paddle_permissions_missing(client: Client) -> list[str]:
    """The permissions the hub needs (NEEDED_PERMISSIONS) that the key lacks, as far as
    Paddle's API shows them without changing anything. Raises PaddleProblem for any other
    refusal."""
    missing = []
    for permission in NEEDED_PERMISSIONS:
        probe = _PERMISSION_PROBES[permission]
        if probe is None:
            continue
        method, path = probe
        with paddle_errors(f"checking the key's {permission} permission"):
            try:
                if method == "GET":
                    client.get_raw(path)
                else:
                    client.post_raw(path, None)
            except ApiError as exc:
                if exc.error_code == "forbidden":
                    missing.append(permission)
                elif exc.response is None or exc.response.status_code not in (400, 404):
                    raise
    return missing


def client_exchanges(client: Client) -> list[Exchange]:
    """The redacted summaries of the requests a client made, oldest first."""
    session = client.client
    return list(session.exchanges) if isinstance(session, PaddleSession) else []
