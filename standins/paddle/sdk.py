"""SDK clients for tests and benchmarks, pointed at a stand-in (or any base URL).

Imports the product's client module, so it needs Django set up: the stand-in server itself
(`standins.paddle`) does not import this module.
"""

from __future__ import annotations

from typing import Any

from paddle_billing import Client, Options

from paddle_destination.client import UrlEnvironment


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
    client = Client(api_key, options=Options(UrlEnvironment(base_url, like)), **client_kwargs)
    if retries_like_https:
        client.client.mount("http://", client.client.get_adapter("https://x"))
    return client
