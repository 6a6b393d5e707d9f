"""The invoice's life in Paddle through the API: on runs, and the list of invoices by status."""

import datetime

import pytest

from api.tests.conftest import assert_error, org_url
from integrations.tests.factories import IntegrationConfigurationFactory
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
