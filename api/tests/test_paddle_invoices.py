"""The invoice's life in Paddle through the API: on runs, on bills, and the list of invoices by
status."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.tests.conftest import assert_error, org_url
from api.views import accounts_bills
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from runs.models import InvoiceStatus
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory

pytestmark = pytest.mark.django_db

DAY = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def paid():
    integration = IntegrationConfigurationFactory()
    delivery = DeliveryFactory(
        integration=integration,
        bill_m3ter_id="bill-paid",
        invoice_status=InvoiceStatus.PAID,
        invoice_number="325-10042",
        issued_at=DAY,
        paid_at=DAY + datetime.timedelta(days=2),
    )
    run = IntegrationRunFactory(
        integration=integration, complete=True, bill__m3ter_id="bill-paid", entity_id="bill-paid"
    )
    return delivery, run


def test_a_run_carries_its_invoice_status_number_and_times(api, paid):
    _, run = paid

    detail = api.get(org_url(f"integrationruns/{run.pk}")).json()
    listed = api.get(org_url("integrationruns")).json()["data"][0]

    for body in (detail, listed):
        assert body["invoiceStatus"] == "PAID"
        assert body["invoiceNumber"] == "325-10042"
        assert body["dtInvoiceIssued"].startswith("2026-12-01T10:00:00")
        assert body["dtInvoicePaid"].startswith("2026-12-03T10:00:00")
        assert body["dtInvoiceCanceled"] is None


def test_a_run_with_nothing_heard_has_empty_invoice_fields(api):
    run = IntegrationRunFactory(complete=True)

    body = api.get(org_url(f"integrationruns/{run.pk}")).json()

    assert (body["invoiceStatus"], body["invoiceNumber"], body["dtInvoicePaid"]) == ("", "", None)


def test_invoices_are_listed_by_status(api, paid):
    delivery, _ = paid
    DeliveryFactory(invoice_status=InvoiceStatus.BILLED, invoice_number="325-1")
    DeliveryFactory()  # nothing heard yet

    only_paid = api.get(org_url("paddleinvoices"), {"invoiceStatus": "PAID"}).json()["data"]
    not_heard = api.get(org_url("paddleinvoices"), {"invoiceStatus": "NONE"}).json()["data"]
    everything = api.get(org_url("paddleinvoices")).json()["data"]

    assert [d["billId"] for d in only_paid] == ["bill-paid"]
    assert only_paid[0]["externalId"] == delivery.external_id
    assert only_paid[0]["url"].endswith(f"/transactions-v2/{delivery.external_id}")
    assert only_paid[0]["invoiceNumber"] == "325-10042"
    assert [d["invoiceStatus"] for d in not_heard] == [""]
    assert len(everything) == 3


def test_an_unknown_invoice_status_is_a_clear_400(api):
    response = api.get(org_url("paddleinvoices"), {"invoiceStatus": "SHIPPED"})

    assert_error(response, 400, field="invoiceStatus")


def test_listing_invoices_needs_permission_to_view_deliveries(client_for, paid):
    api = client_for(permissions=["integrations.*"])

    assert api.get(org_url("paddleinvoices")).status_code == 403


# A bill's Paddle invoices, on the bill


@pytest.fixture
def bill_paid_and_canceled():
    """A bill delivered to two integrations: one invoice paid, the other's draft canceled."""
    bill = BillFactory(m3ter_id="bill-two")
    paid = DeliveryFactory(
        bill_m3ter_id=bill.m3ter_id,
        invoice_status=InvoiceStatus.PAID,
        invoice_number="325-10042",
        invoice_status_at=DAY + datetime.timedelta(days=2),
        issued_at=DAY,
        paid_at=DAY + datetime.timedelta(days=2),
    )
    canceled = DeliveryFactory(
        bill_m3ter_id=bill.m3ter_id,
        invoice_status=InvoiceStatus.CANCELED,
        invoice_status_at=DAY,
        canceled_at=DAY,
    )
    DeliveryFactory(bill_m3ter_id=bill.m3ter_id, external_id="")  # nothing made in Paddle yet
    return bill, paid, canceled


def test_a_bill_carries_its_paddle_invoice_for_each_integration(api, bill_paid_and_canceled):
    bill, paid, canceled = bill_paid_and_canceled
    BillFactory()  # another bill, with none

    detail = api.get(org_url(f"bills/{bill.m3ter_id}")).json()
    listed = {b["id"]: b for b in api.get(org_url("bills")).json()["data"]}

    assert listed[bill.m3ter_id]["paddleInvoices"] == detail["paddleInvoices"]
    assert [b["paddleInvoices"] for i, b in listed.items() if i != bill.m3ter_id] == [[]]
    first, second = detail["paddleInvoices"]
    assert first == {
        "integrationConfigId": str(paid.integration_id),
        "externalId": paid.external_id,
        "url": f"https://sandbox-vendors.paddle.com/transactions-v2/{paid.external_id}",
        "invoiceStatus": "PAID",
        "invoiceNumber": "325-10042",
        "dtInvoiceIssued": "2026-12-01T10:00:00Z",
        "dtInvoicePaid": "2026-12-03T10:00:00Z",
        "dtInvoiceCanceled": None,
        "dtStatusChanged": "2026-12-03T10:00:00Z",
        "dtDelivered": None,
    }
    assert (second["integrationConfigId"], second["invoiceStatus"]) == (
        str(canceled.integration_id),
        "CANCELED",
    )
    assert second["dtInvoiceCanceled"] == "2026-12-01T10:00:00Z"


def test_bills_written_through_the_api_answer_with_their_invoices(api):
    body = {"accountId": AccountFactory().m3ter_id, "currency": "USD"}

    created = api.post(org_url("bills"), body, format="json").json()

    assert created["paddleInvoices"] == []


def test_a_big_bill_keeps_streaming_with_its_paddle_invoices(
    api, bill_paid_and_canceled, monkeypatch
):
    bill, _, _ = bill_paid_and_canceled
    LineItemFactory.create_batch(3, bill=bill)
    whole = api.get(org_url(f"bills/{bill.m3ter_id}"))
    monkeypatch.setattr(accounts_bills, "STREAM_LINE_ITEMS_OVER", 2)

    streamed = api.get(org_url(f"bills/{bill.m3ter_id}"))

    assert (whole.streaming, streamed.streaming) == (False, True)
    body = json.loads(b"".join(streamed.streaming_content))
    assert body == whole.json()
    assert [i["invoiceStatus"] for i in body["paddleInvoices"]] == ["PAID", "CANCELED"]


def test_a_caller_who_may_not_view_deliveries_gets_bills_without_invoices(
    client_for, bill_paid_and_canceled
):
    bill, _, _ = bill_paid_and_canceled
    api = client_for(permissions=["m3terdata.*"])

    detail = api.get(org_url(f"bills/{bill.m3ter_id}")).json()
    listed = api.get(org_url("bills")).json()["data"]

    assert "paddleInvoices" not in detail
    assert all("paddleInvoices" not in b for b in listed)
    assert "325-10042" not in json.dumps([detail, listed])


def test_the_bill_list_reads_every_bills_invoices_in_one_query(api):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(org_url("bills")).status_code == 200
        return len(captured)

    for bill in BillFactory.create_batch(2):
        DeliveryFactory(bill_m3ter_id=bill.m3ter_id, invoice_status=InvoiceStatus.BILLED)
    few = queries()
    for bill in BillFactory.create_batch(10):
        DeliveryFactory(bill_m3ter_id=bill.m3ter_id, invoice_status=InvoiceStatus.PAID)

    assert queries() == few


def test_the_schema_documents_a_bills_paddle_invoices(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    bill = schema["components"]["schemas"]["Bill"]
    invoice = schema["components"]["schemas"]["PaddleInvoice"]

    assert bill["properties"]["paddleInvoices"]["items"] == {
        "$ref": "#/components/schemas/PaddleInvoice"
    }
    assert "runs.view_delivery" in bill["properties"]["paddleInvoices"]["description"]
    assert "paddleInvoices" not in bill.get("required", [])
    assert {"integrationConfigId", "externalId", "url", "invoiceStatus", "invoiceNumber",
            "dtInvoiceIssued", "dtInvoicePaid", "dtInvoiceCanceled"} <= set(invoice["properties"])  # fmt: skip
    assert "dtCreated" in bill["required"]  # other read-only fields stay required
