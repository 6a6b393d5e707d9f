"""Where each Paddle destination lives: its API base URL from settings, and the host key the
circuit breaker and the metrics use."""

from urllib.parse import urlsplit

from django.conf import settings

from credentials.models import Destination


def paddle_api_url(destination: str) -> str:
    if destination == Destination.PADDLE:
        return settings.PADDLE_API_URL
    if destination == Destination.PADDLE_SANDBOX:
        return settings.PADDLE_SANDBOX_API_URL
    raise ValueError(f"unknown Paddle destination {destination!r}")


def paddle_host(url: str) -> str:
    """The circuit's key for a URL: scheme://host[:port]."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def destination_host(destination: str) -> str:
    return paddle_host(paddle_api_url(destination))
