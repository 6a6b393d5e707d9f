"""Fixtures for tests that make the product talk to the Paddle stand-in: settings pointing at
this test's stand-in, a credential and a connected integration, and a recorder for what a
delivery reports back. Conftests take them all with
`from paddle_destination.tests.fixtures import *  # noqa: F403`."""

import json

import pytest
from django.urls import reverse

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from paddle_destination.notifications import notifications_set_up
from standins.paddle import make_api_key
from standins.paddle.notifications import signature_header

__all__ = [
    "Recorder",
    "api_key",
    "credential",
    "hub_url",
    "integration",
    "paddle",
    "recorder",
    "webhooks",
]


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


@pytest.fixture
def hub_url(settings):
    """The hub's public URL as the test client reaches it."""
    settings.HUB_PUBLIC_URL = "http://testserver"
    return settings.HUB_PUBLIC_URL


class Webhooks:
    """The credential's webhooks, set up in the stand-in, and a way to post events as Paddle
    signs them (or as someone else does)."""

    def __init__(self, client, paddle, credential):
        self.client = client
        self.sync = notifications_set_up(credential=credential)
        assert self.sync.webhooks_set_up, self.sync.webhook_error
        self.secret = paddle.notifications.get(self.sync.notification_setting_id)[
            "endpoint_secret_key"
        ]
        self.url = reverse("paddle_destination:webhook", args=[credential.pk])
        self._n = 0

    def event(self, event_type, *, txn, status, occurred_at, invoice_number=None, event_id=None):
        self._n += 1
        return {
            "event_id": event_id or f"evt_{self._n:026d}",
            "event_type": event_type,
            "occurred_at": occurred_at,
            "notification_id": f"ntf_{self._n:026d}",
            "data": {
                "id": txn,
                "status": status,
                "invoice_number": invoice_number,
                "billed_at": None,
                "collection_mode": "manual",
            },
        }

    def post(self, event, *, secret=None, timestamp=None, signature=None, body=None):
        """POST as Paddle does; the answer (its on-commit processing has run)."""
        raw = body if body is not None else json.dumps(event).encode()
        header = signature or signature_header(secret or self.secret, raw, timestamp)
        headers = {"Paddle-Signature": header} if header != "-" else {}
        return self.client.post(self.url, raw, content_type="application/json", headers=headers)


@pytest.fixture
def webhooks(client, paddle, hub_url, credential, django_capture_on_commit_callbacks):
    hooks = Webhooks(client, paddle, credential)
    original = hooks.post

    def post_and_process(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(*args, **kwargs)

    hooks.post = post_and_process
    return hooks
