"""POST …/bills/{id}/preview: Preview in Paddle through the API."""

import pytest

from api.tests.conftest import assert_error, org_url
from paddle_destination.tests.fixtures import *  # noqa: F403
from paddle_destination.tests.test_delivery import bill_with_lines

pytestmark = pytest.mark.django_db


def preview_url(bill, integration_id):
    return org_url(f"bills/{bill.m3ter_id}/preview?integrationConfigId={integration_id}")


def test_preview_returns_paddles_totals_and_creates_nothing(api, paddle, integration):
    bill = bill_with_lines(None, "12.50", "7.25")

    response = api.post(preview_url(bill, integration.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(line["name"], line["subtotal"], line["tax"]) for line in body["lineItems"]] == [
        ("L0 — 1,000 calls", "12.50", "0.00"),
        ("L1 — 1,000 calls", "7.25", "0.00"),
    ]
    assert (body["currency"], body["subtotal"], body["discount"], body["total"]) == (
        "USD", "19.75", "0.00", "19.75"
    )  # fmt: skip
    assert body["location"] == "US 62701 (the account's address)"
    assert paddle.dump()["transactions"] == []


def test_a_bill_paddle_cannot_take_is_422_saying_what_to_do(api, paddle, integration):
    bill = bill_with_lines(None, "5", "-1")

    response = api.post(preview_url(bill, integration.pk))

    assert_error(response, 422, contains="cannot have negative lines")
    assert "Excluded Line Item Types" in response.json()["message"]


def test_paddles_rate_limit_is_429_with_retry_after(api, paddle, integration):
    paddle.push_fault("rate_limit", method="POST", path="/transactions/preview", retry_after=9)

    response = api.post(preview_url(bill_with_lines(), integration.pk))

    assert response.status_code == 429
    assert response["Retry-After"] == "9"
    assert "hub's address" in response.json()["message"]


def test_a_refused_key_is_502_and_never_shows_it(api, paddle, integration, api_key):
    paddle.configure(revoked_keys=[api_key])

    response = api.post(preview_url(bill_with_lines(), integration.pk))

    assert_error(response, 502, contains="invalid_token")
    assert api_key not in response.content.decode()


def test_the_integration_is_required_and_must_exist(api, integration):
    bill = bill_with_lines()

    missing = api.post(org_url(f"bills/{bill.m3ter_id}/preview"))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "integrationConfigId"
    assert_error(api.post(preview_url(bill, "not-a-uuid")), 400, field="integrationConfigId")
    unknown = "00000000-0000-0000-0000-000000000001"
    assert_error(api.post(preview_url(bill, unknown)), 404, contains="No integration configuration")
    assert_error(
        api.post(org_url("bills/nope/preview?integrationConfigId=" + unknown)),
        404,
        contains="No bill",
    )


def test_preview_needs_permission_to_see_bills(client_for, integration):
    client = client_for(permissions=["integrations.*"])

    response = client.post(preview_url(bill_with_lines(), integration.pk))

    assert_error(response, 403, contains="m3terdata.view_bill")
