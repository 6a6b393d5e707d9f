"""Pointing the official SDK (paddle_billing) at a base URL of our choosing.

The SDK builds every request URL as `urljoin(client.options.environment.base_url, path)` and
reads nothing else from the environment, and `Environment.base_url` is a property keyed on the
enum value. A subclass that overrides the property is therefore all it takes: the object is
still an `Environment` (type checks, `.value` for logs), only its base URL differs.
"""

from paddle_billing import Environment


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
