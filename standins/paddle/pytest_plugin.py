"""pytest plugin: a Paddle stand-in per test, and SDK clients pointed at it.

Registered in the root conftest.py (`pytest_plugins = ["standins.paddle.pytest_plugin"]`).

    def test_something(paddle_standin):
        client = paddle_client_for(paddle_standin)            # a sandbox key is made up
        client.customers.create(CreateCustomer(email="a@example.com", name="A"))
        assert len(paddle_standin.state.customers) == 1

One server runs per test session (per xdist worker); each test gets it reset, with its start-up
configuration back, so tests may reconfigure it (`paddle_standin.configure(...)`) or push faults
freely. No database is involved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from paddle_billing import Client

from standins.base import reset_around
from standins.paddle import PaddleStandin, make_api_key
from standins.paddle.sdk import client_for


def paddle_client_for(
    standin: PaddleStandin | str, api_key: str | None = None, **client_kwargs: Any
) -> Client:
    """The official SDK client, talking to `standin` (a PaddleStandin or its URL).

    Without `api_key` a well-formed key for the stand-in's mode is made up. Extra keyword
    arguments go to paddle_billing.Client (e.g. timeout=0.5, retry_count=0).
    """
    if isinstance(standin, PaddleStandin):
        url, mode = standin.url, standin.config.mode
    else:
        url, mode = standin, "sandbox"
    return client_for(url, api_key or make_api_key(mode), like=mode, **client_kwargs)


def draft_transaction(standin: PaddleStandin) -> str:
    """A draft manual-collection transaction made straight in the stand-in's state (for tests of
    what happens to it later); its id."""
    customer = standin.state.create_customer(
        {"email": f"customer{len(standin.state.customers)}@example.com", "name": "Customer"}
    )
    price = {
        "description": "Usage",
        "name": "Usage",
        "unit_price": {"amount": "1250", "currency_code": "USD"},
        "product": {"name": "Usage", "tax_category": "standard"},
    }
    body = {
        "customer_id": customer["id"],
        "collection_mode": "manual",
        "currency_code": "USD",
        "billing_details": {"payment_terms": {"interval": "day", "frequency": 30}},
        "items": [{"quantity": 1, "price": price}],
    }
    return standin.state.create_transaction(
        body, refuse_billed=True, pricing=standin.config.pricing
    )["id"]


@pytest.fixture(scope="session")
def paddle_standin_server() -> Iterator[PaddleStandin]:
    """The session's stand-in: sandbox mode, Paddle's default limits, a free port."""
    with PaddleStandin(mode="sandbox") as standin:
        yield standin


@pytest.fixture
def paddle_standin(paddle_standin_server: PaddleStandin) -> Iterator[PaddleStandin]:
    """A freshly reset stand-in for this test."""
    yield from reset_around(paddle_standin_server)


@pytest.fixture
def paddle_client(paddle_standin: PaddleStandin) -> Client:
    """An SDK client with a sandbox key, talking to this test's stand-in."""
    return paddle_client_for(paddle_standin)
