"""Fixtures for tests that make the product talk to the Paddle stand-in: settings pointing at
this test's stand-in, a credential and a connected integration, and a recorder for what a
delivery reports back. Conftests take them all with
`from paddle_destination.tests.fixtures import *  # noqa: F403`."""

import pytest

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from standins.paddle import make_api_key

__all__ = ["Recorder", "api_key", "credential", "integration", "paddle", "recorder"]


@pytest.fixture
def paddle(settings, paddle_standin):
    """The stand-in, with the product's settings pointed at it and a limit high enough that the
    shared rate limiter never slows a test down (test_ratelimit covers the limiter itself)."""
    settings.PADDLE_API_URL = paddle_standin.url
    settings.PADDLE_SANDBOX_API_URL = paddle_standin.url
    settings.PADDLE_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.PADDLE_READ_TIMEOUT = 5.0
    return paddle_standin


@pytest.fixture
def api_key():
    """A well-formed sandbox key (the stand-in accepts any unless told otherwise)."""
    return make_api_key("sandbox")


@pytest.fixture
def credential(db, api_key):
    return IntegrationCredentialFactory(api_key=api_key, destination=Destination.PADDLE_SANDBOX)


@pytest.fixture
def integration(credential):
    return IntegrationConfigurationFactory(
        credential=credential, destination=Destination.PADDLE_SANDBOX
    )


class Recorder:
    """Stands in for the run engine's callbacks."""

    def __init__(self):
        self.created = []
        self.entries = []

    def on_transaction_created(self, transaction_id, customer_id):
        self.created.append((transaction_id, customer_id))

    def log(self, level, message, data):
        self.entries.append((str(level), message, data))

    def messages(self, level=None):
        return [m for lv, m, _ in self.entries if level is None or lv == level]


@pytest.fixture
def recorder():
    return Recorder()
