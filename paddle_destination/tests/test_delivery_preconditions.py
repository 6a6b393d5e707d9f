"""What real Paddle requires before it makes an invoice, met by the delivery at the fewest
requests: named and active customers, the account's current address, no future billing period,
zero-total bills, and Paddle's setup errors."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from paddle_billing.Entities.Shared import CountryCode, Status
from paddle_billing.Resources.Addresses.Operations import UpdateAddress
from paddle_billing.Resources.Customers.Operations import CreateCustomer, UpdateCustomer

from m3terdata.tests.factories import AccountFactory, ExternalMappingFactory
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.tests.test_delivery import bill_with_lines, deliver
from standins.paddle.pytest_plugin import paddle_client_for
from standins.tests.test_paddle_standin import make_address

pytestmark = pytest.mark.django_db

SPRINGFIELD = {
    "addressLine1": "1 Main Street",
    "locality": "Springfield",
    "region": "IL",
    "postCode": "62701",
    "country": "US",
}


@pytest.fixture
def client(paddle, api_key):
    return paddle_client_for(paddle, api_key)


def requests_made(paddle, since=0):
    return [f"{r['method']} {r['route']}" for r in paddle.requests[since:]]


def springfield(client, customer_id):
    return make_address(
        client,
        customer_id,
        country_code=CountryCode.US,
        first_line="1 Main Street",
        city="Springfield",
        postal_code="62701",
        region="IL",
    )


def test_a_known_customer_costs_one_request_per_bill(paddle, integration, recorder):
    account = AccountFactory()
    first = deliver(integration, bill_with_lines(account), recorder)
    assert requests_made(paddle) == [
        "POST /customers",
        "POST /customers/{customer_id}/addresses",
        "POST /transactions",
    ]
    before = len(paddle.requests)

    deliver(integration, bill_with_lines(account), recorder)
    deliver(integration, bill_with_lines(account), recorder, known=first.transaction_id)

    assert requests_made(paddle, before) == [
        "POST /transactions",
        "PATCH /transactions/{transaction_id}",
    ]


def test_a_nameless_customer_found_by_email_is_named_before_use(
    paddle, integration, recorder, client
):
    account = AccountFactory(name="Acme Ltd")
    existing = client.customers.create(CreateCustomer(email=account.email))
    springfield(client, existing.id)
    before = len(paddle.requests)

    result = deliver(integration, bill_with_lines(account), recorder)

    assert result.customer_id == existing.id
    assert paddle.state.customers[existing.id]["name"] == "Acme Ltd"
    assert requests_made(paddle, before) == [
        "POST /customers",  # 409 customer_already_exists naming the customer
        "GET /customers/{customer_id}",
        "PATCH /customers/{customer_id}",
        "GET /customers/{customer_id}/addresses",  # its Springfield address is the account's
        "POST /transactions",
    ]
    assert len(paddle.dump()["addresses"]) == 1
    assert any("given the account's name" in m for m in recorder.messages("INFO"))


def test_an_archived_mapped_customer_is_reactivated_once(paddle, integration, recorder, client):
    integration.use_external_mapping_account_code = True
    integration.save()
    customer = client.customers.create(CreateCustomer(email="mapped@example.com", name="Mapped"))
    client.customers.update(customer.id, UpdateCustomer(status=Status.Archived))
    account = AccountFactory()
    ExternalMappingFactory(m3ter_id=account.m3ter_id, external_id=customer.id, integration=None)

    before = len(paddle.requests)

    deliver(integration, bill_with_lines(account), recorder)
    deliver(integration, bill_with_lines(account), recorder)

    assert paddle.state.customers[customer.id]["status"] == "active"
    assert requests_made(paddle, before) == [
        "GET /customers/{customer_id}",
        "PATCH /customers/{customer_id}",
        "GET /customers/{customer_id}/addresses",  # none of them is the account's address
        "POST /customers/{customer_id}/addresses",
        "POST /transactions",
        "POST /transactions",  # checked once: the next bill costs one request
    ]
    assert any("reactivated" in m for m in recorder.messages("INFO"))


def test_an_archived_matching_address_is_reactivated_not_duplicated(
    paddle, integration, recorder, client
):
    account = AccountFactory(address=SPRINGFIELD)
    existing = client.customers.create(CreateCustomer(email=account.email, name="Old"))
    address = springfield(client, existing.id)
    client.addresses.update(existing.id, address.id, UpdateAddress(status=Status.Archived))

    deliver(integration, bill_with_lines(account), recorder)

    (txn,) = paddle.dump()["transactions"]
    assert txn["address_id"] == address.id
    assert paddle.state.addresses[address.id]["status"] == "active"
    assert len(paddle.dump()["addresses"]) == 1


def test_the_invoice_follows_the_accounts_current_address(paddle, integration, recorder):
    account = AccountFactory(address=SPRINGFIELD)
    first = deliver(integration, bill_with_lines(account), recorder)
    (address,) = paddle.dump()["addresses"]

    account.address = {**SPRINGFIELD, "addressLine1": "9 Elm Road", "postCode": "62702"}
    account.save()
    second = deliver(integration, bill_with_lines(account), recorder)
    again = deliver(integration, bill_with_lines(account), recorder)

    (updated,) = paddle.dump()["addresses"]  # the same Paddle address, brought up to date
    assert (updated["id"], updated["first_line"], updated["postal_code"]) == (
        address["id"], "9 Elm Road", "62702"
    )  # fmt: skip
    txns = {t["id"]: t for t in paddle.dump()["transactions"]}
    assert txns[second.transaction_id]["address_id"] == address["id"]
    assert paddle.request_count("PATCH", "/customers/{customer_id}/addresses/{address_id}") == 1
    assert {first.customer_id, second.customer_id, again.customer_id} == {first.customer_id}


def test_an_address_archived_in_paddle_since_is_reactivated_and_the_bill_sent(
    paddle, integration, recorder, client
):
    account = AccountFactory(address=SPRINGFIELD)
    first = deliver(integration, bill_with_lines(account), recorder)
    (address,) = paddle.dump()["addresses"]
    client.addresses.update(first.customer_id, address["id"], UpdateAddress(status=Status.Archived))

    result = deliver(integration, bill_with_lines(account), recorder)

    txn = paddle.state.transactions[result.transaction_id]
    assert txn["address_id"] == address["id"]
    assert paddle.state.addresses[address["id"]]["status"] == "active"
    assert any("checked again" in m for m in recorder.messages("INFO"))


def test_a_billing_period_starting_in_the_future_is_left_out_and_said(
    paddle, integration, recorder
):
    today = timezone.now().date()
    bill = bill_with_lines(
        None,
        "10",
        start_date=today + datetime.timedelta(days=2),
        end_date=today + datetime.timedelta(days=32),
    )

    result = deliver(integration, bill, recorder)

    assert paddle.state.transactions[result.transaction_id]["billing_period"] is None
    assert any("sent without a billing period" in m for m in recorder.messages("WARNING"))


def test_a_zero_total_bill_is_not_sent_unless_its_invoice_exists(paddle, integration, recorder):
    bill = bill_with_lines(None, "0", "0.00")

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill, recorder)

    assert caught.value.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert "no invoice PDF" in caught.value.message
    assert paddle.stats()["total"] == 0

    sent = bill_with_lines(None, "5")
    first = deliver(integration, sent, recorder)
    sent.line_items.update(subtotal=Decimal("0"))
    deliver(integration, sent, recorder, known=first.transaction_id)
    assert paddle.state.transactions[first.transaction_id]["details"]["totals"]["total"] == "0"


def test_no_default_payment_link_says_where_to_set_it(paddle, integration, recorder):
    paddle.configure(default_payment_link=False)

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)

    assert caught.value.kind == PaddleProblemKind.INVALID_REQUEST
    assert caught.value.code == "transaction_default_checkout_url_not_set"
    assert "Checkout › Checkout settings" in caught.value.hint


def test_concurrent_modification_is_transient(paddle, integration, recorder):
    paddle.push_fault("concurrent_modification", method="POST", path="/transactions")

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)

    assert caught.value.kind == PaddleProblemKind.TRANSIENT
