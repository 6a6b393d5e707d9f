"""What the customer sees and owes on the invoice the hub makes, checked in the stand-in: tax
per address and Tax Mode, businesses (B2B), mapped Paddle products, credits, and the totals
note. For every bill here, Paddle's total before tax is the bill's, or differs by exactly the
excluded lines, as the result (and the run) says."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from m3terdata.models import ExternalMapping, LineItemType
from m3terdata.tests.factories import (
    AccountFactory,
    BillFactory,
    ExternalMappingFactory,
    LineItemFactory,
)
from paddle_destination.delivery import invoice_deliver
from paddle_destination.errors import PaddleProblem

pytestmark = pytest.mark.django_db

GERMAN_ADDRESS = {
    "addressLine1": "Unter den Linden 1",
    "locality": "Berlin",
    "region": "Berlin",
    "postCode": "10117",
    "country": "DE",
}
BRITISH_ADDRESS = {**GERMAN_ADDRESS, "locality": "London", "region": "London", "country": "GB"}


def bill_of(account, *lines, **bill_fields):
    """A bill with line items given as (subtotal, type) or subtotal."""
    bill = BillFactory(account=account, **bill_fields)
    for i, line in enumerate(lines or ["100.00"]):
        subtotal, kind = line if isinstance(line, tuple) else (line, LineItemType.USAGE)
        LineItemFactory(
            bill=bill,
            sequence=i + 1,
            subtotal=Decimal(subtotal),
            line_item_type=kind,
            description=f"Line {i + 1}",
        )
    return bill


def deliver(integration, bill, recorder, known=None):
    return invoice_deliver(
        integration=integration,
        bill=bill,
        known_transaction_id=known,
        reconcile=False,
        on_transaction_created=recorder.on_transaction_created,
        log=recorder.log,
    )


def owed(paddle, transaction_id):
    """What the customer sees on the invoice: (total before tax, tax, total)."""
    totals = paddle.state.transactions[transaction_id]["details"]["totals"]
    before_tax = int(totals["subtotal"]) - int(totals["discount"])
    return before_tax, int(totals["tax"]), int(totals["total"])


def bill_minor_units(bill):
    """The bill's total (its line items), in cents rounded half-up."""
    total = sum(li.subtotal for li in bill.line_items.all()) * 100
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("tax_mode", "expected"),
    [
        # m3ter's amounts are net: Paddle adds 20% UK VAT on top.
        ("EXTERNAL", (10000, 2000, 12000)),
        # m3ter's amounts include tax: the customer pays the bill's total.
        ("INTERNAL", (8333, 1667, 10000)),
        # The stand-in's account is tax-inclusive, as many are: tax is carved out of m3ter's net
        # amounts, which is why EXTERNAL is the default (README: upgrading).
        ("ACCOUNT_SETTING", (8333, 1667, 10000)),
    ],
)
def test_tax_mode_decides_what_the_customer_owes(paddle, integration, recorder, tax_mode, expected):
    integration.tax_mode = tax_mode
    integration.save()
    bill = bill_of(AccountFactory(address=BRITISH_ADDRESS), "60.00", "40.00")

    result = deliver(integration, bill, recorder)

    assert owed(paddle, result.transaction_id) == expected
    if tax_mode == "EXTERNAL":
        assert expected[0] == bill_minor_units(bill)
    items = paddle.state.transactions[result.transaction_id]["items"]
    assert {i["price"]["tax_mode"] for i in items} == {tax_mode.lower()}


def test_a_company_with_a_vat_number_is_invoiced_as_a_business(paddle, integration, recorder):
    company = AccountFactory(
        address=GERMAN_ADDRESS,
        custom_fields={
            "companyName": "Analytische GmbH",
            "taxNumber": "DE123456789",
            "companyNumber": "HRB 42",
        },  # fmt: skip
    )
    consumer = AccountFactory(address=GERMAN_ADDRESS)

    b2b = deliver(integration, bill_of(company), recorder)
    b2c = deliver(integration, bill_of(consumer), recorder)

    (business,) = paddle.dump()["businesses"]
    assert (business["name"], business["tax_identifier"], business["company_number"]) == (
        "Analytische GmbH",
        "DE123456789",
        "HRB 42",
    )
    assert paddle.state.transactions[b2b.transaction_id]["business_id"] == business["id"]
    assert owed(paddle, b2b.transaction_id) == (10000, 0, 10000)  # EU reverse charge
    assert paddle.state.transactions[b2c.transaction_id]["business_id"] is None
    assert owed(paddle, b2c.transaction_id) == (10000, 1900, 11900)
    assert (
        ExternalMapping.objects.get(
            m3ter_id=company.m3ter_id, external_table="Business"
        ).external_id
        == business["id"]
    )


def test_a_known_business_costs_no_request_and_changes_in_m3ter_are_sent(
    paddle, integration, recorder
):
    account = AccountFactory(custom_fields={"companyName": "Initech", "taxNumber": "US1"})
    deliver(integration, bill_of(account), recorder)
    deliver(integration, bill_of(account), recorder)
    business_requests = paddle.request_count(path="/customers/{customer_id}/businesses")
    # One creation, for the first bill only: the customer was just created, so it has no
    # business to look up.
    assert business_requests == 1
    assert paddle.request_count("GET", "/customers/{customer_id}/businesses") == 0

    account.custom_fields = {"companyName": "Initech Inc.", "taxNumber": "US2"}
    account.save()
    deliver(integration, bill_of(account), recorder)

    (business,) = paddle.dump()["businesses"]
    assert (business["name"], business["tax_identifier"]) == ("Initech Inc.", "US2")
    assert paddle.request_count("PATCH", "/customers/{customer_id}/businesses/{business_id}") == 1


def test_the_business_custom_fields_are_the_integrations(paddle, integration, recorder):
    integration.business_name_field = "legalName"
    integration.tax_number_field = "vat"
    integration.save()
    account = AccountFactory(custom_fields={"legalName": "Umbrella plc", "companyName": "no"})

    deliver(integration, bill_of(account), recorder)

    (business,) = paddle.dump()["businesses"]
    assert (business["name"], business["tax_identifier"]) == ("Umbrella plc", None)


def test_an_existing_business_of_the_customer_is_used_not_duplicated(paddle, integration, recorder):
    account = AccountFactory(custom_fields={"companyName": "Hooli", "taxNumber": "GB999"})
    first = deliver(integration, bill_of(account), recorder)
    ExternalMapping.objects.filter(external_table="Business").delete()

    second = deliver(integration, bill_of(account), recorder)

    assert len(paddle.dump()["businesses"]) == 1
    assert (
        paddle.state.transactions[first.transaction_id]["business_id"]
        == paddle.state.transactions[second.transaction_id]["business_id"]
    )


def test_a_new_paddle_customer_gets_its_own_business(paddle, integration, recorder):
    account = AccountFactory(custom_fields={"companyName": "Globex", "taxNumber": "GB1"})
    first = deliver(integration, bill_of(account), recorder)
    # The account is now billed to another Paddle customer (its e-mail changed in m3ter).
    ExternalMapping.objects.filter(external_table__in=["Customer", "Address"]).delete()
    account.email = "finance@globex.example"
    account.save()

    second = deliver(integration, bill_of(account), recorder)

    businesses = {b["id"]: b["customer_id"] for b in paddle.dump()["businesses"]}
    transactions = paddle.state.transactions
    assert len(businesses) == 2
    for result in (first, second):
        txn = transactions[result.transaction_id]
        assert businesses[txn["business_id"]] == txn["customer_id"]


def test_a_line_of_a_mapped_product_is_sent_with_that_paddle_product(paddle, integration, recorder):
    paddle.configure(approved_tax_categories=["saas"])
    product = paddle.add_product("Platform", tax_category="saas")
    bill = bill_of(AccountFactory())
    line = bill.line_items.get()
    line.product_id = "m3ter-product-1"
    line.save()
    ExternalMappingFactory(
        m3ter_entity="Product",
        m3ter_id="m3ter-product-1",
        external_table="Product",
        external_id=product["id"],
    )

    result = deliver(integration, bill, recorder)

    txn = paddle.state.transactions[result.transaction_id]
    assert txn["items"][0]["price"]["product_id"] == product["id"]
    assert txn["details"]["line_items"][0]["product"]["tax_category"] == "saas"
    assert owed(paddle, result.transaction_id)[0] == bill_minor_units(bill)


def test_a_product_mapping_to_something_else_is_reported_and_not_used(
    paddle, integration, recorder
):
    bill = bill_of(AccountFactory())
    bill.line_items.update(product_id="m3ter-product-1")
    ExternalMappingFactory(
        m3ter_entity="Product", m3ter_id="m3ter-product-1", external_table="Product",
        external_id="prod-123",
    )  # fmt: skip

    result = deliver(integration, bill, recorder)

    assert "price" in paddle.state.transactions[result.transaction_id]["items"][0]
    assert any("'prod-123', which is not a Paddle product id" in m for m in recorder.messages())


def test_an_unapproved_tax_category_says_where_to_approve_it(paddle, integration, recorder):
    integration.tax_category = "saas"
    integration.save()

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_of(AccountFactory()), recorder)

    assert caught.value.code == "product_tax_category_not_approved"
    assert "Tax Category" in caught.value.hint and "Paddle" in caught.value.hint


def test_credits_become_a_discount_and_the_invoice_equals_the_bill(paddle, integration, recorder):
    integration.negative_line_items = "CREDIT"
    integration.save()
    account = AccountFactory(address=BRITISH_ADDRESS)
    bill = bill_of(
        account,
        "120.00",
        ("-20.00", LineItemType.CREDIT_DEDUCTION),
        ("-0.505", LineItemType.USAGE_CREDIT),
        "0.505",
    )

    result = deliver(integration, bill, recorder)

    assert owed(paddle, result.transaction_id) == (10000, 2000, 12000)
    assert result.total_note == ""
    txn = paddle.state.transactions[result.transaction_id]
    assert paddle.state.discounts[txn["discount_id"]]["description"].startswith("Credits: ")

    bill.line_items.filter(subtotal__lt=0).delete()
    again = deliver(integration, bill, recorder, known=result.transaction_id)
    assert paddle.state.transactions[again.transaction_id]["discount_id"] is None
    assert owed(paddle, again.transaction_id)[0] == bill_minor_units(bill) == 12051


def test_excluded_lines_are_the_stated_difference(paddle, integration, recorder):
    integration.excluded_line_item_types = ["MINIMUM_SPEND"]
    integration.save()
    bill = bill_of(AccountFactory(), "90.00", ("10.00", LineItemType.MINIMUM_SPEND))

    result = deliver(integration, bill, recorder)

    assert owed(paddle, result.transaction_id)[0] == bill_minor_units(bill) - 1000
    assert "USD 10.00 less, because Excluded Line Item Types left out 1 Minimum spend line" in (
        result.total_note
    )
    assert result.total_note in recorder.messages("WARNING")


def test_the_customer_reads_quantity_period_and_reference(paddle, integration, recorder):
    bill = BillFactory(sequential_invoice_number="INV-7")
    LineItemFactory(
        bill=bill, sequence=1, description="API calls", quantity=Decimal(23456), unit="requests"
    )

    result = deliver(integration, bill, recorder)

    txn = paddle.state.transactions[result.transaction_id]
    assert txn["items"][0]["price"]["name"] == "API calls — 23,456 requests"
    assert txn["billing_details"]["additional_information"] == (
        "Billing period: 1–31 Oct 2026. m3ter bill reference: INV-7."
    )
