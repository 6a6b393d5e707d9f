"""The stand-in refuses what real Paddle refuses before it makes an invoice, and offers the
endpoints the hub needs to meet those rules: customer and address PATCH, preview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from paddle_billing.Entities.Shared import Status, TimePeriod
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Addresses.Operations import UpdateAddress
from paddle_billing.Resources.Customers.Operations import UpdateCustomer

from standins.tests import test_paddle_standin
from standins.tests.test_paddle_standin import (
    Raw,
    make_address,
    make_customer,
    manual_invoice,
    raw_item,
)

# The SDK client and the raw-HTTP caller of the stand-in's own tests.
client, raw = test_paddle_standin.client, test_paddle_standin.raw


def refused(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_no_transaction_without_a_default_payment_link(client, raw, paddle_standin):
    customer = make_customer(client)
    paddle_standin.configure(default_payment_link=False)

    error = refused(lambda: client.transactions.create(manual_invoice(customer.id)))

    assert error.error_code == "transaction_default_checkout_url_not_set"
    assert paddle_standin.dump()["transactions"] == []
    # Switchable over the admin API too (the demo and the benchmark run it in another process).
    assert raw("POST", "/__standin/config", json={"default_payment_link": True}).ok
    assert client.transactions.create(manual_invoice(customer.id)).status == "draft"


def test_a_billing_period_starting_in_the_future_is_refused(client, paddle_standin):
    operation = manual_invoice(make_customer(client).id)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    operation.billing_period = TimePeriod(tomorrow, tomorrow + timedelta(days=30))

    error = refused(lambda: client.transactions.create(operation))

    assert error.error_code == "transaction_billing_period_starts_at_greater_than_now"
    operation.billing_period = TimePeriod(tomorrow - timedelta(days=2), tomorrow)
    assert client.transactions.create(operation).billing_period is not None


def test_a_nameless_customer_is_refused_until_patched_with_a_name(client):
    customer = make_customer(client, name=None)
    address = make_address(client, customer.id)

    error = refused(lambda: client.transactions.create(manual_invoice(customer.id, address.id)))
    assert error.error_code == "transaction_customer_not_suitable_for_collection_mode"

    named = client.customers.update(customer.id, UpdateCustomer(name="Ada Lovelace"))
    assert named.name == "Ada Lovelace"
    assert client.transactions.create(manual_invoice(customer.id, address.id)).status == "ready"


def test_customer_patch_keeps_emails_unique(client):
    make_customer(client, email="taken@example.com")
    other = make_customer(client, email="other@example.com")

    error = refused(
        lambda: client.customers.update(other.id, UpdateCustomer(email="TAKEN@example.com"))
    )

    assert error.error_code == "customer_already_exists"


def test_archived_customer_or_address_is_never_attached_until_reactivated(client):
    customer = make_customer(client)
    address = make_address(client, customer.id)
    client.customers.update(customer.id, UpdateCustomer(status=Status.Archived))

    error = refused(lambda: client.transactions.create(manual_invoice(customer.id, address.id)))
    assert [(e.field, e.error) for e in error.field_errors] == [
        ("customer_id", f"{customer.id} is archived")
    ]

    client.customers.update(customer.id, UpdateCustomer(status=Status.Active))
    client.addresses.update(customer.id, address.id, UpdateAddress(status=Status.Archived))
    error = refused(lambda: client.transactions.create(manual_invoice(customer.id, address.id)))
    assert [e.field for e in error.field_errors] == ["address_id"]

    reactivated = client.addresses.update(
        customer.id, address.id, UpdateAddress(status=Status.Active, city="Cambridge")
    )
    assert (reactivated.status, reactivated.city) == (Status.Active, "Cambridge")
    assert client.addresses.get(customer.id, address.id).city == "Cambridge"
    assert client.transactions.create(manual_invoice(customer.id, address.id)).status == "ready"


def test_an_address_of_another_customer_is_not_found(client):
    address = make_address(client, make_customer(client).id)
    other = make_customer(client, email="other@example.com")

    assert refused(lambda: client.addresses.get(other.id, address.id)).error_code == "not_found"


def test_concurrent_modification_can_be_injected(client, paddle_standin):
    customer = make_customer(client)
    paddle_standin.push_fault("concurrent_modification", method="POST", path="/transactions")

    error = refused(lambda: client.transactions.create(manual_invoice(customer.id)))

    assert (error.response.status_code, error.error_code) == (409, "concurrent_modification")
    assert paddle_standin.dump()["transactions"] == []


def test_preview_computes_totals_like_create_and_stores_nothing(client, raw, paddle_standin):
    customer = make_customer(client)
    address = make_address(client, customer.id)
    body = {
        "customer_id": customer.id,
        "address_id": address.id,
        "currency_code": "USD",
        "items": [raw_item("1250"), raw_item("725", quantity=2)],
    }
    for item in body["items"]:
        item["price"]["tax_mode"] = "external"  # m3ter's net amounts, tax on top

    response = raw("POST", "/transactions/preview", json=body)

    assert response.status_code == 200, response.text
    preview = response.json()["data"]
    totals = preview["details"]["totals"]
    assert totals["subtotal"] == "2700"
    assert int(totals["total"]) == 2700 + int(totals["tax"])
    assert [li["totals"]["subtotal"] for li in preview["details"]["line_items"]] == ["1250", "1450"]
    assert preview["address"] == {"country_code": "GB", "postal_code": "EC1A 1AA"}
    assert paddle_standin.dump()["transactions"] == []
    created = raw("POST", "/transactions", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["details"]["totals"] == totals


def test_preview_validates_like_paddle(raw, paddle_standin):
    response = raw("POST", "/transactions/preview", json={"items": [raw_item("12.5")]})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"
    unknown = raw("POST", "/transactions/preview", json={
        "customer_id": "ctm_01h00000000000000000000000", "items": [raw_item()]
    })  # fmt: skip
    assert unknown.json()["error"]["code"] == "not_found"
    assert paddle_standin.dump()["transactions"] == []


def test_a_key_without_a_permission_is_forbidden_before_its_body_is_read(raw, paddle_standin):
    paddle_standin.configure(key_permissions={raw.key: ["customer.read", "transaction.read"]})

    assert raw("GET", "/customers").status_code == 200
    assert raw("POST", "/transactions/preview", json={}).status_code == 400  # read is enough
    refused = raw("POST", "/transactions", json={})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert raw("POST", "/customers", json={}).json()["error"]["code"] == "forbidden"
    assert Raw(paddle_standin)("POST", "/customers", json={}).status_code == 400  # other keys
