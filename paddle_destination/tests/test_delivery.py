"""Delivering bills through the real SDK, over HTTP, to the Paddle stand-in."""

import json
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from paddle_billing.Entities.Shared import CountryCode
from paddle_billing.Resources.Addresses.Operations import CreateAddress
from paddle_billing.Resources.Customers.Operations import CreateCustomer
from paddle_billing.Resources.Transactions import TransactionsClient

from m3terdata.models import ExternalMapping, LineItemType
from m3terdata.tests.factories import (
    AccountFactory,
    BillFactory,
    ExternalMappingFactory,
    LineItemFactory,
)
from paddle_destination.delivery import invoice_deliver, paddle_transaction_url
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.models import RateLimitSlot
from standins.paddle.pytest_plugin import paddle_client_for

pytestmark = pytest.mark.django_db


def bill_with_lines(account=None, *subtotals, **bill_fields):
    bill = BillFactory(account=account or AccountFactory(), **bill_fields)
    for i, subtotal in enumerate(subtotals or ["12.50", "7.25"]):
        LineItemFactory(bill=bill, sequence=i + 1, subtotal=Decimal(subtotal), description=f"L{i}")
    return bill


def deliver(integration, bill, recorder, *, known=None, reconcile=False):
    return invoice_deliver(
        integration=integration,
        bill=bill,
        known_transaction_id=known,
        reconcile=reconcile,
        on_transaction_created=recorder.on_transaction_created,
        log=recorder.log,
    )


def mappings(account, table):
    return list(
        ExternalMapping.objects.filter(m3ter_id=account.m3ter_id, external_table=table).values_list(
            "external_id", "integration_id"
        )
    )


def test_first_bill_creates_customer_address_and_a_ready_draft_invoice(
    paddle, integration, recorder, api_key
):
    bill = bill_with_lines(None, "12.50", "7.25")

    result = deliver(integration, bill, recorder)

    state = paddle.dump()
    (txn,) = state["transactions"]
    (customer,) = state["customers"]
    (address,) = state["addresses"]
    assert result.created is True
    assert result.transaction_id == txn["id"]
    assert result.customer_id == customer["id"]
    assert result.status == txn["status"] == "ready"  # never billed
    assert result.url == f"https://sandbox-vendors.paddle.com/transactions-v2/{txn['id']}"
    assert recorder.created == [(txn["id"], customer["id"])]
    assert txn["collection_mode"] == "manual"
    assert txn["address_id"] == address["id"]
    assert txn["details"]["totals"]["subtotal"] == "1975"
    assert [i["price"]["unit_price"]["amount"] for i in txn["items"]] == ["1250", "725"]
    assert txn["custom_data"]["m3ter_bill_id"] == bill.m3ter_id
    assert customer["email"] == bill.account.email
    assert customer["name"] == bill.account.name
    assert (address["country_code"], address["city"]) == ("US", "Springfield")
    assert mappings(bill.account, "Customer") == [(customer["id"], integration.id)]
    assert mappings(bill.account, "Address") == [(address["id"], integration.id)]
    # The run log: each step, with redacted request summaries and never the key or a body.
    logged = json.dumps([e[2] for e in recorder.entries]) + " ".join(recorder.messages())
    assert api_key not in logged
    assert bill.account.email not in logged
    assert "POST" in logged and "/transactions" in logged
    request_ids = [r["request_id"] for e in recorder.entries for r in e[2].get("requests", [])]
    # A new customer costs its creation, its address and the transaction: no look-up first.
    assert all(request_ids) and len(request_ids) == 3


def test_later_bills_reuse_the_remembered_customer_and_address(paddle, integration, recorder):
    account = AccountFactory()
    deliver(integration, bill_with_lines(account), recorder)
    deliver(integration, bill_with_lines(account), recorder)

    assert paddle.request_count("POST", "/customers") == 1
    assert paddle.request_count("GET", "/customers") == 0
    assert paddle.request_count("POST", "/customers/{customer_id}/addresses") == 1
    assert paddle.request_count("POST", "/transactions") == 2
    assert len(paddle.dump()["customers"]) == 1


def test_a_bill_sent_again_replaces_every_item_of_its_transaction(paddle, integration, recorder):
    bill = bill_with_lines(None, "10", "20", "30")
    first = deliver(integration, bill, recorder)

    bill.line_items.all().delete()
    LineItemFactory(bill=bill, sequence=1, subtotal=Decimal("99.99"), description="only")
    bill.version = 2
    bill.save()
    second = deliver(integration, bill, recorder, known=first.transaction_id)

    (txn,) = paddle.dump()["transactions"]
    assert second.transaction_id == first.transaction_id
    assert second.created is False
    assert [i["price"]["name"] for i in txn["items"]] == ["only — 1,000 calls"]
    assert txn["details"]["totals"]["total"] == "9999"
    assert txn["custom_data"]["bill_version"] == 2
    assert paddle.request_count("PATCH") == 1
    assert recorder.created == [(first.transaction_id, first.customer_id)]


def test_existing_paddle_customer_is_recovered_from_the_409(paddle, integration, recorder, api_key):
    account = AccountFactory()
    client = paddle_client_for(paddle, api_key)
    existing = client.customers.create(CreateCustomer(email=account.email.upper(), name="Old"))
    client.addresses.create(
        existing.id,
        CreateAddress(
            country_code=CountryCode("GB"),
            first_line="1 High St",
            city="London",
            postal_code="N1",
            region="London",
        ),
    )

    result = deliver(integration, bill_with_lines(account), recorder)

    assert result.customer_id == existing.id
    assert mappings(account, "Customer") == [(existing.id, integration.id)]
    # The customer's address elsewhere is not the account's: the invoice gets the account's.
    (txn,) = paddle.dump()["transactions"]
    invoice_address = paddle.state.addresses[txn["address_id"]]
    assert (invoice_address["city"], invoice_address["customer_id"]) == ("Springfield", existing.id)
    assert len(paddle.dump()["addresses"]) == 2
    assert any("customer_already_exists" in m for m in recorder.messages("INFO"))


def test_external_mapping_decides_the_customer_integration_specific_first(
    paddle, integration, recorder, api_key
):
    client = paddle_client_for(paddle, api_key)
    mapped = client.customers.create(CreateCustomer(email="mapped@example.com", name="Mapped"))
    other = client.customers.create(CreateCustomer(email="global@example.com", name="Global"))
    integration.use_external_mapping_account_code = True
    integration.save()
    account = AccountFactory()
    ExternalMappingFactory(m3ter_id=account.m3ter_id, external_id=other.id, integration=None)
    ExternalMappingFactory(
        m3ter_id=account.m3ter_id, external_id=mapped.id, integration=integration
    )

    result = deliver(integration, bill_with_lines(account), recorder)

    assert result.customer_id == mapped.id
    assert paddle.request_count("POST", "/customers") == 2  # only the two made above
    (txn,) = paddle.dump()["transactions"]
    assert txn["customer_id"] == mapped.id


def test_global_external_mapping_is_used_when_the_integration_has_none(
    paddle, integration, recorder, api_key
):
    customer = paddle_client_for(paddle, api_key).customers.create(
        CreateCustomer(email="global@example.com", name="Global")
    )
    integration.use_external_mapping_account_code = True
    integration.save()
    account = AccountFactory()
    ExternalMappingFactory(
        m3ter_id=account.m3ter_id,
        external_id=customer.id,
        integration=None,
        external_system="PADDLE",
    )

    assert deliver(integration, bill_with_lines(account), recorder).customer_id == customer.id


def test_missing_external_mapping_says_which_mapping_to_create_and_sends_nothing(
    paddle, integration, recorder
):
    integration.use_external_mapping_account_code = True
    integration.save()
    bill = bill_with_lines()

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill, recorder)

    problem = caught.value
    assert problem.kind == PaddleProblemKind.MISSING_MAPPING
    for words in ("m3ter entity Account", bill.account.m3ter_id, "external system Paddle",
                  "external table Customer", "ctm_"):  # fmt: skip
        assert words in problem.hint
    assert paddle.stats()["total"] == 0


def test_a_mapping_to_something_that_is_not_a_customer_id_is_refused(paddle, integration, recorder):
    integration.use_external_mapping_account_code = True
    integration.save()
    account = AccountFactory()
    ExternalMappingFactory(
        m3ter_id=account.m3ter_id, external_id="cus_123", integration=integration
    )

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(account), recorder)
    assert caught.value.kind == PaddleProblemKind.MISSING_MAPPING
    assert "'cus_123'" in caught.value.message
    assert paddle.stats()["total"] == 0


def test_an_account_without_email_cannot_become_a_customer(paddle, integration, recorder):
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(AccountFactory(email="")), recorder)
    assert caught.value.kind == PaddleProblemKind.MISSING_MAPPING
    assert "no e-mail address" in caught.value.message
    assert paddle.stats()["total"] == 0


@pytest.mark.parametrize(
    ("address", "missing"),
    [
        ({}, "country"),
        ({"country": "US", "locality": "Springfield"}, "first line"),
        (
            {
                "country": "United States",
                "addressLine1": "1 Main",
                "locality": "X",
                "postCode": "1",
                "region": "Y",
            },
            "country",
        ),  # fmt: skip
    ],
)
def test_without_a_usable_address_the_invoice_stays_a_draft(
    paddle, integration, recorder, address, missing
):
    result = deliver(integration, bill_with_lines(AccountFactory(address=address)), recorder)

    assert result.status == "draft"
    assert paddle.dump()["addresses"] == []
    (warning,) = recorder.messages("WARNING")
    assert missing in warning and "stays a draft" in warning


def test_uk_is_sent_as_gb(paddle, integration, recorder):
    account = AccountFactory(
        address={
            "addressLine1": "1 High St",
            "addressLine2": "Flat 2",
            "locality": "London",
            "postCode": "N1",
            "region": "London",
            "country": "uk",
        }  # fmt: skip
    )
    deliver(integration, bill_with_lines(account), recorder)
    (address,) = paddle.dump()["addresses"]
    assert (address["country_code"], address["second_line"]) == ("GB", "Flat 2")


def test_a_billed_transaction_is_left_alone_and_reported(paddle, integration, recorder):
    bill = bill_with_lines()
    first = deliver(integration, bill, recorder)
    paddle.mark_transaction(first.transaction_id, "billed")

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill, recorder, known=first.transaction_id)

    problem = caught.value
    assert problem.kind == PaddleProblemKind.IMMUTABLE
    assert f"Transaction {first.transaction_id} is billed in Paddle" in problem.message
    assert "transaction_immutable" in problem.message
    (txn,) = paddle.dump()["transactions"]
    assert txn["status"] == "billed"


def test_reconcile_adopts_the_transaction_a_dropped_answer_made(paddle, integration, recorder):
    bill = bill_with_lines()
    paddle.push_fault("drop_after_write", method="POST", path="/transactions")

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill, recorder)
    assert caught.value.kind == PaddleProblemKind.TRANSIENT
    assert recorder.created == []
    (made,) = paddle.dump()["transactions"]

    result = deliver(integration, bill, recorder, reconcile=True)

    assert result.transaction_id == made["id"]
    assert result.created is False
    assert recorder.created == [(made["id"], result.customer_id)]
    assert len(paddle.dump()["transactions"]) == 1
    assert paddle.request_count("POST", "/transactions") == 1
    assert paddle.request_count("PATCH") == 1


def test_reconcile_ignores_other_bills_and_pages_through_the_customer(
    paddle, integration, recorder
):
    account = AccountFactory()
    for _ in range(31):  # more than one page of 30
        deliver(integration, bill_with_lines(account, "1"), recorder)
    bill = bill_with_lines(account, "2")

    result = deliver(integration, bill, recorder, reconcile=True)

    assert result.created is True
    assert len(paddle.dump()["transactions"]) == 32
    assert paddle.request_count("GET", "/transactions") == 2


def test_reconcile_reports_a_matching_billed_transaction(paddle, integration, recorder):
    bill = bill_with_lines()
    first = deliver(integration, bill, recorder)
    paddle.mark_transaction(first.transaction_id, "paid")

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill, recorder, reconcile=True)
    assert caught.value.kind == PaddleProblemKind.IMMUTABLE
    assert "is paid in Paddle" in caught.value.message
    assert len(paddle.dump()["transactions"]) == 1


def test_a_revoked_key_is_an_authentication_problem(paddle, integration, recorder, api_key):
    paddle.configure(revoked_keys=[api_key])

    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)

    problem = caught.value
    assert problem.kind == PaddleProblemKind.AUTHENTICATION
    assert "403 invalid_token" in problem.message
    assert "replace it on the credential" in problem.hint
    assert problem.request_id


def test_429_is_rate_limited_with_retry_after_and_holds_the_limiter(paddle, integration, recorder):
    paddle.push_fault("rate_limit", method="POST", path="/customers", retry_after=7)

    before = time.time()
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)

    assert caught.value.kind == PaddleProblemKind.RATE_LIMITED
    assert caught.value.retry_after == 7.0
    slot = RateLimitSlot.objects.get(key=f"host:{urlsplit(paddle.url).netloc}")
    assert slot.next_slot_at >= before + 7


def test_500_is_transient(paddle, integration, recorder):
    paddle.push_fault("http_500", method="POST", path="/transactions", status=503)
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)
    assert caught.value.kind == PaddleProblemKind.TRANSIENT
    assert "503 service_unavailable" in caught.value.message
    assert paddle.dump()["transactions"] == []


def test_a_timeout_is_transient(paddle, settings, integration, recorder):
    settings.PADDLE_READ_TIMEOUT = 0.3
    paddle.push_fault("timeout", method="POST", path="/transactions", delay=1.0)
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)
    assert caught.value.kind == PaddleProblemKind.TRANSIENT
    assert "did not answer in time" in caught.value.message


def test_paddles_field_errors_come_back_as_an_invalid_request(paddle, integration, recorder):
    account = AccountFactory(email="not-an-email")
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(account), recorder)
    problem = caught.value
    assert problem.kind == PaddleProblemKind.INVALID_REQUEST
    assert problem.field_errors and problem.field_errors[0]["field"] == "email"
    assert "email" in problem.message


def test_a_transaction_unknown_to_paddle_is_not_found(paddle, integration, recorder):
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder, known="txn_01h00000000000000000000000")
    assert caught.value.kind == PaddleProblemKind.NOT_FOUND


def test_an_unsupported_bill_sends_nothing(paddle, integration, recorder):
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(None, "10", "-1"), recorder)
    assert caught.value.kind == PaddleProblemKind.UNSUPPORTED_BILL
    assert paddle.stats()["total"] == 0


def test_an_integration_without_credential_fails_before_any_request(paddle, integration, recorder):
    integration.credential = None
    integration.save()
    with pytest.raises(PaddleProblem) as caught:
        deliver(integration, bill_with_lines(), recorder)
    assert caught.value.kind == PaddleProblemKind.AUTHENTICATION
    assert paddle.stats()["total"] == 0


def test_excluded_and_sorted_lines_reach_paddle(paddle, integration, recorder):
    integration.excluded_line_item_types = ["CREDIT_DEDUCTION"]
    integration.sort_line_items_by = "SUBTOTAL"
    integration.save()
    bill = BillFactory()
    LineItemFactory(bill=bill, sequence=1, subtotal=Decimal("1"), description="small")
    LineItemFactory(bill=bill, sequence=2, subtotal=Decimal("-5"), description="credit",
                    line_item_type=LineItemType.CREDIT_DEDUCTION)  # fmt: skip
    LineItemFactory(bill=bill, sequence=3, subtotal=Decimal("9"), description="big")

    deliver(integration, bill, recorder)

    (txn,) = paddle.dump()["transactions"]
    assert [i["price"]["name"] for i in txn["items"]] == [
        "big — 1,000 calls",
        "small — 1,000 calls",
    ]


def test_dashboard_url_per_destination(settings):
    settings.PADDLE_DASHBOARD_URL = "https://vendors.paddle.com/"
    assert (
        paddle_transaction_url(destination="PADDLE", transaction_id="txn_1")
        == "https://vendors.paddle.com/transactions-v2/txn_1"
    )
    assert paddle_transaction_url(destination="PADDLE_SANDBOX", transaction_id="txn_1").startswith(
        "https://sandbox-vendors.paddle.com/"
    )


def test_an_answer_the_sdk_cannot_parse_still_hands_over_the_new_id(
    paddle, integration, recorder, monkeypatch
):
    # Paddle made the transaction; if its answer then fails to parse (a newer field shape, say),
    # the id must still reach the engine, or the next attempt would make a second invoice.
    def unparseable(data):
        raise KeyError("grand_total_tax")

    monkeypatch.setattr(TransactionsClient.Transaction, "from_dict", unparseable)

    with pytest.raises(KeyError):
        deliver(integration, bill_with_lines(), recorder)

    (made,) = paddle.dump()["transactions"]
    assert [tid for tid, _ in recorder.created] == [made["id"]]


def test_a_mapping_another_run_stored_meanwhile_is_updated_not_an_error(integration, monkeypatch):
    # Bills of one account going out at once (after an outage) both find no mapping, then both
    # store one: the second insert meets the first's row.
    from m3terdata import services as mirror
    from paddle_destination.parties import _remember

    account = AccountFactory()
    _remember(account=account, table="customer", integration=integration, external_id="ctm_01")
    real, stale = mirror.external_mapping_matching, []

    def matching_read_before_the_other_run_committed(*, values):
        stale.append(values)
        return real(values=values).none() if len(stale) == 1 else real(values=values)

    monkeypatch.setattr(
        mirror, "external_mapping_matching", matching_read_before_the_other_run_committed
    )
    _remember(account=account, table="customer", integration=integration, external_id="ctm_01")

    assert len(stale) == 2
    assert mappings(account, "customer") == [("ctm_01", integration.id)]
