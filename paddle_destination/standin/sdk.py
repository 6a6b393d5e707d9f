"""Pointing the official SDK (paddle_billing) at a base URL of our choosing.

The SDK builds every request URL as `urljoin(client.options.environment.base_url, path)` and
reads nothing else from the environment, and `Environment.base_url` is a property keyed on the
enum value. A subclass that overrides the property is therefore all it takes: the object is
still an `Environment` (type checks, `.value` for logs), only its base URL differs.
"""

from __future__ import annotations

from typing import Any

from paddle_billing import Client, Environment, Options


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


def environment_for(base_url: str, like: str = "sandbox") -> Environment:
    return UrlEnvironment(base_url, like)


def client_for(
    base_url: str,
    api_key: str,
    *,
    like: str = "sandbox",
    retries_like_https: bool = True,
    **client_kwargs: Any,
) -> Client:
    """An SDK client talking to `base_url`.

    The SDK mounts its retrying adapter (3 retries on 429/500/502/503/504 for idempotent
    methods, honouring Retry-After) on "https://" only. Against a plain-http stand-in that
    adapter would be skipped and the client would behave unlike production, so by default it
    is mounted on "http://" as well.
    """
    client = Client(api_key, options=Options(environment_for(base_url, like)), **client_kwargs)
    if retries_like_https:
        client.client.mount("http://", client.client.get_adapter("https://x"))
    return client
