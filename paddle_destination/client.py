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
- Every request first waits for its slot on the credential's shared rate limiter; a 429 pushes
  the credential's next slot past Paddle's Retry-After.
- Nothing is logged: the SDK's own body-logging hook is only installed on the session it builds,
  and this session logs neither keys nor bodies. It remembers a redacted summary of the last
  exchange (method, path, status, request id, duration) for the run log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from paddle_billing import Client, Environment, Options
from paddle_billing.Resources.Shared.Operations import Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.crypto import SecretDecryptionError
from credentials.models import Destination, IntegrationCredential
from paddle_destination.errors import PaddleProblem, PaddleProblemKind, retry_after_seconds
from paddle_destination.ratelimit import RateLimiter

PADDLE_API_VERSION = 1
USER_AGENT = "m3terpaddle (paddle-python-sdk)"

# The SDK logs every failed request's URL (which can carry a customer's e-mail) and, at DEBUG,
# whole bodies. It gets a logger of its own that emits nothing: our PaddleProblem says the same,
# redacted. Made directly rather than with getLogger, so no logging configuration can turn it on.
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


def paddle_api_url(destination: str) -> str:
    if destination == Destination.PADDLE:
        return settings.PADDLE_API_URL
    if destination == Destination.PADDLE_SANDBOX:
        return settings.PADDLE_SANDBOX_API_URL
    raise ValueError(f"unknown Paddle destination {destination!r}")


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
        waited = self.limiter.acquire()
        started = time.monotonic()
        status = request_id = None
        try:
            response = super().request(method, url, *args, **kwargs)
            status = response.status_code
            request_id = response.headers.get("Request-Id")
            if status == 429:
                self.limiter.hold_off(retry_after_seconds(response))
            return response
        finally:
            self.exchanges.append(
                Exchange(
                    method=method.upper(),
                    path=urlsplit(url).path,
                    status=status,
                    request_id=request_id,
                    duration_ms=round((time.monotonic() - started) * 1000),
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


def paddle_client(*, credential: IntegrationCredential) -> Client:
    """The SDK client for a stored credential, rate-limited per credential across workers.

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
        limiter=RateLimiter(f"credential:{credential.pk}"),
    )


def paddle_connection_check(client: Client) -> None:
    """One cheap authenticated GET: a page of one transaction. It needs the transaction read
    permission, which delivering invoices needs anyway, so a key lacking it fails here rather
    than on the first bill. Raises what the SDK raises."""
    client.transactions.list(ListTransactions(pager=Pager(per_page=1)))


def client_exchanges(client: Client) -> list[Exchange]:
    """The redacted summaries of the requests a client made, oldest first."""
    session = client.client
    return list(session.exchanges) if isinstance(session, PaddleSession) else []
