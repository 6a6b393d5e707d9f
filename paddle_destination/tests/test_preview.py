"""Preview in Paddle: the body delivery would send, priced by Paddle, nothing created."""

from decimal import Decimal

import pytest

from m3terdata.tests.factories import AccountFactory
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.preview import invoice_preview
from paddle_destination.tests.test_delivery import bill_with_lines, deliver

pytestmark = pytest.mark.django_db


def test_a_new_customer_is_previewed_by_the_accounts_country_and_nothing_is_created(
    paddle, integration
):
    bill = bill_with_lines(None, "12.50", "7.25")

    preview = invoice_preview(integration=integration, bill=bill)

    assert [(line.name, line.quantity, line.subtotal) for line in preview.lines] == [
        ("L0 — 1,000 calls", 1, Decimal("12.50")),
        ("L1 — 1,000 calls", 1, Decimal("7.25")),
    ]
    assert (preview.currency, preview.subtotal, preview.total) == ("USD", Decimal("19.75"), Decimal("19.75"))  # fmt: skip
    assert (preview.discount, preview.tax) == (Decimal("0"), Decimal("0"))
    assert preview.customer_id is None
    assert preview.location == "US 62701 (the account's address)"
    state = paddle.dump()
    assert state["customers"] == state["addresses"] == state["transactions"] == []
    (sent,) = paddle.requests
    assert (sent["method"], sent["path"]) == ("POST", "/transactions/preview")
    assert sent["body"]["address"] == {"country_code": "US", "postal_code": "62701"}


def test_the_preview_sends_the_items_delivery_sends(paddle, integration, recorder):
    account = AccountFactory()
    bill = bill_with_lines(account, "3.10", "0")
    deliver(integration, bill_with_lines(account, "1"), recorder)  # the customer exists now

    preview = invoice_preview(integration=integration, bill=bill)
    delivered = deliver(integration, bill, recorder)

    previewed, created = paddle.requests[-2]["body"], paddle.requests[-1]["body"]
    assert previewed["items"] == created["items"]
    assert previewed["currency_code"] == created["currency_code"]
    # A customer and address already in Paddle are previewed as themselves.
    assert (previewed["customer_id"], previewed["address_id"]) == (
        created["customer_id"], created["address_id"]
    )  # fmt: skip
    assert preview.customer_id == delivered.customer_id
    txn = paddle.state.transactions[delivered.transaction_id]
    assert preview.total == Decimal(txn["details"]["totals"]["total"]) / 100 == Decimal("3.10")


def test_a_bill_that_cannot_be_sent_cannot_be_previewed(paddle, integration):
    with pytest.raises(PaddleProblem) as caught:
        invoice_preview(integration=integration, bill=bill_with_lines(None, "5", "-1"))

    assert caught.value.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert paddle.stats()["total"] == 0


def test_notes_say_what_delivery_would_log(paddle, integration):
    bill = bill_with_lines(AccountFactory(address={"country": "US"}), "5")

    preview = invoice_preview(integration=integration, bill=bill)

    assert any("stays a draft" in note for note in preview.notes)
    assert preview.location == "no address: Paddle computes no tax"


def test_a_business_already_in_paddle_is_previewed_with_it(paddle, integration, recorder):
    account = AccountFactory(custom_fields={"companyName": "Initech", "taxNumber": "GB123"})
    deliver(integration, bill_with_lines(account, "1"), recorder)  # customer and business exist
    bill = bill_with_lines(account, "2")

    preview = invoice_preview(integration=integration, bill=bill)
    deliver(integration, bill, recorder)

    previewed, created = paddle.requests[-2]["body"], paddle.requests[-1]["body"]
    assert previewed["business_id"] == created["business_id"] is not None
    assert not any("company" in note for note in preview.notes)


def test_a_company_not_yet_in_paddle_is_previewed_as_a_consumer_and_said_so(paddle, integration):
    account = AccountFactory(custom_fields={"companyName": "Initech"})

    preview = invoice_preview(integration=integration, bill=bill_with_lines(account, "2"))

    assert "business_id" not in paddle.requests[-1]["body"]
    assert any("company is not in Paddle" in note for note in preview.notes)
    assert paddle.dump()["businesses"] == []
