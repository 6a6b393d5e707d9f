"""pytest plugin: an m3ter stand-in per test, a connection pointed at it, and m3ter-shaped records.

Registered in the root conftest.py (`pytest_plugins = [..., "standins.m3ter.pytest_plugin"]`).

    def test_something(m3ter_standin, m3ter_connection):
        account = m3ter_standin.put_account(m3ter_account())
        m3ter_standin.put_bill(m3ter_bill(account))
        pull_run(connection=m3ter_connection)

One server runs per test session; each test gets it reset (data, tokens, faults, request log).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from standins.base import reset_around
from standins.m3ter import M3terStandin

WEBHOOK_API_KEY = "m3ter-webhook-key"
WEBHOOK_SECRET = "m3ter-webhook-secret-value"


def m3ter_account(**overrides: Any) -> dict[str, Any]:
    """An account as m3ter's API returns it (without the bookkeeping the stand-in adds)."""
    code = overrides.pop("code", f"acct-{uuid.uuid4().hex[:8]}")
    return {
        "code": code,
        "name": f"Customer {code}",
        "emailAddress": f"billing@{code}.example.com",
        "currency": "USD",
        "address": {
            "addressLine1": "1 Main Street",
            "locality": "Springfield",
            "region": "IL",
            "postCode": "62701",
            "country": "US",
        },
        "customFields": {},
        **overrides,
    }


def m3ter_line_item(**overrides: Any) -> dict[str, Any]:
    subtotal = overrides.pop("subtotal", 125.5)
    return {
        "lineItemType": "USAGE",
        "description": "API calls",
        "quantity": 1000,
        "units": 1000,
        "unit": "calls",
        "subtotal": subtotal,
        "convertedSubtotal": subtotal,
        "conversionRate": 1,
        "averageUnitPrice": 0.1255,
        "currency": "USD",
        "productId": "prod-platform",
        "productName": "Platform",
        "productCode": "platform",
        "aggregationId": str(uuid.uuid4()),
        "referencedBillId": "",
        "referencedLineItemId": "",
        "servicePeriodStartDate": "2026-10-01T00:00:00Z",
        "servicePeriodEndDate": "2026-11-01T00:00:00Z",
        **overrides,
    }


def m3ter_bill(account: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A bill of `account` (a stored stand-in account) as m3ter's API returns it."""
    return {
        "accountId": account["id"],
        "accountCode": account["code"],
        "billDate": "2026-11-01",
        "dueDate": "2026-12-01",
        "startDate": "2026-10-01",
        "endDate": "2026-11-01",
        "billingFrequency": "MONTHLY",
        "currency": "USD",
        "status": "PENDING",
        "locked": False,
        "billTotal": 125.5,
        "lineItems": [m3ter_line_item()],
        **overrides,
    }


@pytest.fixture(scope="session")
def m3ter_standin_server() -> Iterator[M3terStandin]:
    with M3terStandin() as standin:
        yield standin


@pytest.fixture
def m3ter_standin(m3ter_standin_server: M3terStandin) -> Iterator[M3terStandin]:
    """A freshly reset m3ter stand-in for this test."""
    yield from reset_around(m3ter_standin_server)


@pytest.fixture
def m3ter_connection(db, m3ter_standin: M3terStandin):
    """An enabled connection to the stand-in, with webhook credentials."""
    from m3tersync.services import connection_create

    return connection_create(
        name="m3ter stand-in",
        org_id=m3ter_standin.org_id,
        api_key_id=m3ter_standin.api_key,
        api_secret=m3ter_standin.api_secret,
        base_url=m3ter_standin.url,
        webhook_api_key=WEBHOOK_API_KEY,
        webhook_secret=WEBHOOK_SECRET,
    )
