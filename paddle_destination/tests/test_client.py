"""The SDK client as configured for the hub: base URL, timeouts, no SDK retries, the rate
limiter, and no key or body in any log."""

import logging
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from paddle_destination.client import client_exchanges, paddle_client, paddle_connection_check
from paddle_destination.errors import PaddleProblem, PaddleProblemKind, paddle_errors
from paddle_destination.models import RateLimitSlot
from standins.paddle import make_api_key

pytestmark = pytest.mark.django_db


def test_base_url_and_timeouts_come_from_settings(settings):
    settings.PADDLE_API_URL = "https://paddle.proxy.example/"
    settings.PADDLE_SANDBOX_API_URL = "http://127.0.0.1:8081"
    settings.PADDLE_CONNECT_TIMEOUT = 2.5
    settings.PADDLE_READ_TIMEOUT = 11.0

    live = paddle_client(
        credential=IntegrationCredentialFactory(
            destination=Destination.PADDLE, api_key=make_api_key("production")
        )
    )
    sandbox = paddle_client(credential=IntegrationCredentialFactory())

    assert live.options.environment.base_url == "https://paddle.proxy.example"
    assert live.options.environment.value == "production"
    assert sandbox.options.environment.base_url == "http://127.0.0.1:8081"
    assert sandbox.options.environment.value == "sandbox"
    assert live.timeout == (2.5, 11.0)


def test_one_client_per_credential_with_its_own_key_and_its_hosts_limiter(api_key, settings):
    settings.PADDLE_SANDBOX_API_URL = "https://sandbox-api.paddle.com"
    settings.PADDLE_API_URL = "https://api.paddle.com/"
    credential = IntegrationCredentialFactory(api_key=api_key)
    session = paddle_client(credential=credential).client
    other = paddle_client(credential=IntegrationCredentialFactory()).client
    live = paddle_client(
        credential=IntegrationCredentialFactory(
            destination=Destination.PADDLE, api_key=make_api_key("production")
        )
    ).client

    assert session.headers["Authorization"] == f"Bearer {api_key}"
    assert session.headers["Paddle-Version"] == "1"
    assert api_key not in repr(session)
    # Paddle limits per IP address: every key to one host shares one budget.
    assert session.limiter.key == other.limiter.key == "host:sandbox-api.paddle.com"
    assert live.limiter.key == "host:api.paddle.com"


def test_the_sdk_does_not_retry_our_run_engine_does(paddle, credential):
    client = paddle_client(credential=credential)
    for scheme in ("https://", "http://"):
        assert client.client.get_adapter(f"{scheme}x").max_retries.total == 0
    paddle.push_fault("http_500", method="GET", path="/transactions", times=2)

    with pytest.raises(PaddleProblem) as caught, paddle_errors("testing"):
        paddle_connection_check(client)

    assert caught.value.kind == PaddleProblemKind.TRANSIENT
    assert paddle.request_count("GET", "/transactions") == 1


def test_each_request_waits_for_the_hosts_shared_limiter(paddle, credential):
    client = paddle_client(credential=credential)
    paddle_connection_check(client)
    paddle_connection_check(client)

    slot = RateLimitSlot.objects.get(key=f"host:{urlsplit(paddle.url).netloc}")
    assert slot.next_slot_at > 0
    (first, second) = client_exchanges(client)
    assert (first.method, first.path, first.status) == ("GET", "/transactions", 200)
    assert first.request_id and first.request_id != second.request_id


def test_nothing_logs_the_key_or_a_body(paddle, credential, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    client = paddle_client(credential=credential)
    paddle_connection_check(client)
    paddle.configure(revoked_keys=[api_key])
    with pytest.raises(PaddleProblem), paddle_errors("testing"):
        paddle_connection_check(client)

    assert api_key not in caplog.text
    assert '"data"' not in caplog.text and "Invalid or revoked" not in caplog.text


def test_a_live_client_reaches_production_and_a_sandbox_key_there_is_refused(paddle):
    paddle.configure(mode="production")
    live = IntegrationCredentialFactory(
        destination=Destination.PADDLE, api_key=make_api_key("production")
    )
    paddle_connection_check(paddle_client(credential=live))

    sandbox = IntegrationCredentialFactory()
    with pytest.raises(PaddleProblem) as caught, paddle_errors("testing"):
        paddle_connection_check(paddle_client(credential=sandbox))
    assert caught.value.kind == PaddleProblemKind.AUTHENTICATION
    assert caught.value.code == "forbidden"


def test_an_undecryptable_key_is_an_authentication_problem(settings, credential):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(PaddleProblem) as caught:
        paddle_client(credential=credential)
    assert caught.value.kind == PaddleProblemKind.AUTHENTICATION
    assert credential.name in caught.value.message
    assert "FIELD_ENCRYPTION_KEYS" in caught.value.hint
