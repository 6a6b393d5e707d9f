import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import BillStatus
from m3terdata.tests.factories import AccountFactory, BillFactory, LineItemFactory
from runs.models import IntegrationRun, InvoiceStatus, RunStatus, RunTrigger
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory
from runs.tests.test_views import rows, user_with

pytestmark = pytest.mark.django_db

DAY = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def connected():
    return IntegrationConfigurationFactory(
        name="Sandbox", credential=IntegrationCredentialFactory()
    )


# Bill list


def test_bill_list_shows_bills_latest_first(viewer_client):
    older = BillFactory(bill_date=datetime.date(2026, 9, 1), account__name="Older Ltd")
    newer = BillFactory(bill_date=datetime.date(2026, 10, 1), account__name="Newer Ltd")

    response = viewer_client.get(reverse("m3terdata:bill_list"))

    assert response.status_code == 200
    assert rows(response) == [newer, older]
    html = response.content.decode()
    assert reverse("m3terdata:bill_detail", args=[newer.m3ter_id]) in html
    assert "Newer Ltd" in html
    assert 'name="bill_ids"' not in html  # a viewer cannot tick bills to send


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"account": "acme"}, {"sept", "oct"}),
        ({"status": "APPROVED"}, {"oct"}),
        ({"bill_job_id": "job-1"}, {"sept", "other"}),
        ({"date_from": "2026-10-01"}, {"oct"}),
        ({"date_to": "2026-09-30"}, {"sept", "other"}),
        ({"account": "acme", "bill_job_id": "job-1"}, {"sept"}),
    ],
)
def test_bill_list_filters(viewer_client, query, expected):
    acme = AccountFactory(code="acme")
    bills = {
        "sept": BillFactory(account=acme, bill_date=datetime.date(2026, 9, 1), bill_job_id="job-1"),
        "oct": BillFactory(
            account=acme, bill_date=datetime.date(2026, 10, 1), status=BillStatus.APPROVED
        ),
        "other": BillFactory(bill_date=datetime.date(2026, 9, 1), bill_job_id="job-1"),
    }
    names = {bill.pk: name for name, bill in bills.items()}
    response = viewer_client.get(reverse("m3terdata:bill_list"), query)
    assert {names[bill.pk] for bill in rows(response)} == expected


def test_bill_list_queries_do_not_grow_with_rows(viewer_client, django_assert_max_num_queries):
    BillFactory.create_batch(30)
    with django_assert_max_num_queries(6):
        response = viewer_client.get(reverse("m3terdata:bill_list"))
    assert len(rows(response)) == 30


def invoiced(bill, status, *, number="", at=DAY, integration=None, **times):
    return DeliveryFactory(
        bill_m3ter_id=bill.m3ter_id,
        invoice_status=status,
        invoice_number=number,
        invoice_status_at=at,
        **({"integration": integration} if integration else {}),
        **times,
    )


def test_bill_list_filters_by_invoice_status_and_shows_it_in_the_delivery_column(
    viewer_client,
):
    issued, paid, draft, unheard = BillFactory.create_batch(4)
    invoiced(issued, InvoiceStatus.BILLED, number="325-10001", issued_at=DAY)
    invoiced(paid, InvoiceStatus.PAID, number="325-10002", issued_at=DAY, paid_at=DAY)
    invoiced(draft, InvoiceStatus.DRAFT)
    DeliveryFactory(bill_m3ter_id=unheard.m3ter_id)

    def shown(query):
        response = viewer_client.get(reverse("m3terdata:bill_list"), query)
        return {bill.pk: bill_invoice_badge(response, bill) for bill in rows(response)}

    assert shown({"invoice_status": "BILLED"}) == {issued.pk: "Issued 325-10001 1 Dec"}
    assert shown({"invoice_status": "PAID"}) == {paid.pk: "Issued 325-10002 · paid 1 Dec"}
    assert shown({"invoice_status": "DRAFT"}) == {draft.pk: "Draft (not issued yet)"}
    assert shown({"invoice_status": "CANCELED"}) == {}
    assert shown({}) == {
        issued.pk: "Issued 325-10001 1 Dec",
        paid.pk: "Issued 325-10002 · paid 1 Dec",
        draft.pk: "Draft (not issued yet)",
        unheard.pk: None,
    }


def test_the_invoice_filter_has_the_run_lists_choices_and_wording(viewer_client):
    form = viewer_client.get(reverse("m3terdata:bill_list")).context["form"]
    runs_form = viewer_client.get(reverse("runs:list")).context["form"]

    field, runs_field = form.fields["invoice_status"], runs_form.fields["invoice_status"]
    assert (field.label, field.choices) == (runs_field.label, runs_field.choices)
    assert [label for _, label in field.choices] == [
        "Any invoice status", "Draft", "Ready", "Issued", "Overdue", "Paid", "Completed",
        "Canceled",
    ]  # fmt: skip


def test_a_bill_sent_to_two_integrations_is_found_by_either_invoice(viewer_client):
    bill = BillFactory()
    invoiced(bill, InvoiceStatus.CANCELED, at=DAY, canceled_at=DAY)
    invoiced(bill, InvoiceStatus.PAID, number="325-7", at=DAY + HOUR, issued_at=DAY, paid_at=DAY)

    def shown(query):
        response = viewer_client.get(reverse("m3terdata:bill_list"), query)
        return [bill_invoice_badge(response, bill) for bill in rows(response)]

    assert shown({"invoice_status": "CANCELED"}) == ["canceled 1 Dec"]
    assert shown({"invoice_status": "PAID"}) == ["Issued 325-7 · paid 1 Dec"]
    assert shown({}) == ["Issued 325-7 · paid 1 Dec"]  # the one that changed last


def bill_invoice_badge(response, bill):
    """The invoice badge in the bill's row of the list, as the page shows it."""
    html = response.content.decode()
    row = html[html.index(reverse("m3terdata:bill_detail", args=[bill.m3ter_id])) :]
    row = row[: row.index("</tr>")]
    found = re.search(r'data-testid="bill-invoice-status"[^>]*>([^<]*)<', row)
    return found and found.group(1)


def test_bill_list_with_invoices_queries_do_not_grow_with_rows(
    viewer_client, django_assert_max_num_queries
):
    for bill in BillFactory.create_batch(30):
        invoiced(bill, InvoiceStatus.PAID, number="325-1", issued_at=DAY, paid_at=DAY)
    with django_assert_max_num_queries(6):
        response = viewer_client.get(reverse("m3terdata:bill_list"), {"invoice_status": "PAID"})
    assert len(rows(response)) == 30


def test_a_bill_viewer_who_may_not_see_runs_neither_sees_nor_filters_invoices(client):
    client.force_login(user_with(["m3terdata.view_bill"], "bills-only"))
    bill = BillFactory()
    invoiced(bill, InvoiceStatus.PAID, number="325-SECRET", issued_at=DAY, paid_at=DAY)

    response = client.get(reverse("m3terdata:bill_list"), {"invoice_status": "CANCELED"})

    assert rows(response) == [bill]  # the filter is not offered, so it filters nothing
    assert "invoice_status" not in response.context["form"].fields
    assert "325-SECRET" not in response.content.decode()


def test_an_operator_can_tick_bills_and_open_the_backfill_form(operator_client):
    bill = BillFactory(bill_job_id="job-7")
    html = operator_client.get(
        reverse("m3terdata:bill_list"), {"bill_job_id": "job-7"}
    ).content.decode()
    assert f'name="bill_ids" value="{bill.m3ter_id}"' in html
    assert f"{reverse('m3terdata:backfill')}?bill_job_id=job-7" in html


# Bill page


def test_bill_page_shows_the_bill_line_items_runs_and_decisions(viewer_client, connected):
    bill = BillFactory(account__name="Acme Corp", content_hash="h1")
    LineItemFactory(bill=bill, description="API calls", sequence=1)
    LineItemFactory(bill=bill, description="Platform fee", sequence=2)
    run = IntegrationRunFactory(bill=bill, integration=connected, complete=True)
    IntegrationConfigurationFactory(name="Unplugged")
    other_bill_run = IntegrationRunFactory()

    response = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme Corp" in html
    assert html.index("API calls") < html.index("Platform fee")
    assert reverse("runs:detail", args=[run.pk]) in html
    assert reverse("runs:detail", args=[other_bill_run.pk]) not in html
    states = {
        row.decision.integration.name: (row.status.label, row.status.reason)
        for row in response.context["integration_rows"]
    }
    assert states[connected.name][0] == "Not delivered yet"
    assert "has not reached Paddle yet; its runs below say why" in states[connected.name][1]
    assert states["Unplugged"][0] == "Cannot send"
    assert "has no credential attached (not connected to Paddle)" in states["Unplugged"][1]
    assert "Would be sent" not in html
    assert "Send again" not in html  # a viewer cannot act


def test_bill_page_of_a_bill_older_than_the_integration_points_at_send_again(
    viewer_client, connected
):
    bill = BillFactory(content_hash="h1")

    response = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))

    (row,) = [
        r for r in response.context["integration_rows"] if r.decision.integration == connected
    ]
    assert row.status.label == "Not delivered yet"
    assert "no run has sent it" in row.status.reason
    assert "runs below" not in response.content.decode()


def test_bill_page_says_what_was_delivered(viewer_client, connected):
    bill = BillFactory(content_hash="h1")
    DeliveryFactory(
        integration=connected,
        bill_m3ter_id=bill.m3ter_id,
        external_id="txn_01delivered",
        delivered_hash="h1",
        delivered_version=1,
    )
    html = viewer_client.get(
        reverse("m3terdata:bill_detail", args=[bill.m3ter_id])
    ).content.decode()
    assert "txn_01delivered" in html
    assert "Paddle transaction txn_01delivered holds this version of the bill." in html
    assert ">Delivered</span>" in html
    assert "Not delivered" not in html
    assert 'href="https://sandbox-vendors.paddle.com/transactions-v2/txn_01delivered"' in html


def test_a_disabled_integration_is_one_status_with_what_to_do_not_delivered(
    viewer_client, connected
):
    bill = BillFactory(content_hash="h1")
    DeliveryFactory(
        integration=connected,
        bill_m3ter_id=bill.m3ter_id,
        external_id="txn_01x",
        delivered_hash="h1",
    )
    connected.enabled = False
    connected.disabled_reason = "Paddle refused its credential 3 times in a row."
    connected.consecutive_auth_failures = 3
    connected.save()

    response = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))

    (row,) = response.context["integration_rows"]
    assert row.status.label == "Integration disabled"
    assert "Update Credential" in row.status.reason
    html = response.content.decode()
    assert ">Delivered</span>" not in html
    assert "Fix the integration" in html


def test_bill_page_query_count_is_fixed(viewer_client, connected, django_assert_max_num_queries):
    bill = BillFactory()
    LineItemFactory.create_batch(10, bill=bill)
    IntegrationRunFactory.create_batch(5, bill=bill, integration=connected)
    with django_assert_max_num_queries(12):
        response = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))
    assert response.status_code == 200


def test_unknown_bill_is_404(viewer_client):
    assert viewer_client.get(reverse("m3terdata:bill_detail", args=["nope"])).status_code == 404


# Permissions


@pytest.mark.parametrize("name", ["bill_list", "bill_detail", "backfill"])
def test_pages_need_a_login(client, name):
    bill = BillFactory()
    url = reverse(f"m3terdata:{name}", args=[bill.m3ter_id] if name == "bill_detail" else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_bill_pages_need_the_view_permission(client):
    client.force_login(user_with(["runs.view_integrationrun"], "runs-only"))
    bill = BillFactory()
    assert client.get(reverse("m3terdata:bill_list")).status_code == 403
    assert client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id])).status_code == 403


def test_a_viewer_cannot_send_again_or_backfill(viewer_client, connected):
    bill = BillFactory(bill_job_id="job-1")
    assert (
        viewer_client.post(reverse("m3terdata:bill_send_again", args=[bill.m3ter_id])).status_code
        == 403
    )
    assert viewer_client.get(reverse("m3terdata:backfill")).status_code == 403
    response = viewer_client.post(
        reverse("m3terdata:backfill"), {"integration": connected.pk, "bill_job_id": "job-1"}
    )
    assert response.status_code == 403
    assert not IntegrationRun.objects.exists()


def test_send_again_needs_the_csrf_token(operator_client, connected):
    operator_client.handler.enforce_csrf_checks = True
    bill = BillFactory()
    assert (
        operator_client.post(reverse("m3terdata:bill_send_again", args=[bill.m3ter_id])).status_code
        == 403
    )


# Send again


def test_send_again_to_the_one_integration_opens_its_run(operator_client, connected):
    bill = BillFactory()
    response = operator_client.post(
        reverse("m3terdata:bill_send_again", args=[bill.m3ter_id]), follow=True
    )
    run = IntegrationRun.objects.get()
    assert (run.bill, run.integration, run.trigger) == (bill, connected, RunTrigger.SEND_AGAIN)
    assert response.redirect_chain == [(reverse("runs:detail", args=[run.pk]), 302)]
    assert "Sending the bill again to Sandbox." in response.content.decode()


def test_send_again_to_several_integrations_stays_on_the_bill(operator_client, connected):
    IntegrationConfigurationFactory(name="Second", credential=IntegrationCredentialFactory())
    bill = BillFactory()
    url = reverse("m3terdata:bill_send_again", args=[bill.m3ter_id])
    response = operator_client.post(url, follow=True)
    assert IntegrationRun.objects.count() == 2
    assert response.redirect_chain == [
        (reverse("m3terdata:bill_detail", args=[bill.m3ter_id]), 302)
    ]
    assert "Sending the bill again to Sandbox, Second." in response.content.decode()


def test_send_again_to_an_integration_that_does_not_select_the_bill_says_why(operator_client):
    unplugged = IntegrationConfigurationFactory(name="Unplugged")
    bill = BillFactory()
    response = operator_client.post(
        reverse("m3terdata:bill_send_again", args=[bill.m3ter_id]),
        {"integration": unplugged.pk},
        follow=True,
    )
    assert not IntegrationRun.objects.exists()
    assert "no credential attached" in response.content.decode()


def test_send_again_with_nothing_selecting_the_bill_warns(operator_client):
    bill = BillFactory()
    response = operator_client.post(
        reverse("m3terdata:bill_send_again", args=[bill.m3ter_id]), follow=True
    )
    assert "No integration selects this bill" in response.content.decode()


# Backfill


def test_backfill_form_is_filled_from_the_bill_list(operator_client, connected):
    BillFactory.create_batch(3, bill_job_id="job-1")
    BillFactory(bill_job_id="job-2")
    response = operator_client.get(reverse("m3terdata:backfill"), {"bill_job_id": "job-1"})
    html = response.content.decode()
    assert response.context["matching"] == 3
    assert "3 bills match this selection." in html
    assert 'value="job-1"' in html


def test_backfill_starts_a_parent_run_and_opens_it(operator_client, connected):
    bills = BillFactory.create_batch(3, bill_job_id="job-1")
    BillFactory(bill_job_id="job-2")

    response = operator_client.post(
        reverse("m3terdata:backfill"), {"integration": connected.pk, "bill_job_id": "job-1"}
    )

    parent = IntegrationRun.objects.get(parent=None)
    assert response.status_code == 302
    assert response["Location"] == reverse("runs:detail", args=[parent.pk])
    assert parent.trigger == RunTrigger.BACKFILL
    assert {child.bill for child in parent.children.all()} == set(bills)
    page = operator_client.get(response["Location"]).content.decode()
    assert "0 of 3 bill runs finished" in page
    assert "Bill job" in page and "?bill_job_id=job-1" in page


def test_backfill_of_ticked_bills(operator_client, connected):
    ticked = BillFactory.create_batch(2)
    BillFactory()
    operator_client.post(
        reverse("m3terdata:backfill"),
        {"integration": connected.pk, "bill_ids": [b.m3ter_id for b in ticked]},
    )
    assert {run.bill for run in IntegrationRun.objects.exclude(parent=None)} == set(ticked)


def test_backfill_of_a_date_range_from_the_bill_page(operator_client, connected):
    bill = BillFactory(bill_job_id="job-9")
    html = operator_client.get(
        reverse("m3terdata:bill_detail", args=[bill.m3ter_id])
    ).content.decode()
    assert "Send all bills of this job" in html
    operator_client.post(
        reverse("m3terdata:backfill"),
        {"integration": connected.pk, "date_from": "2026-11-01", "date_to": "2026-11-01"},
    )
    assert IntegrationRun.objects.filter(bill=bill, parent__isnull=False).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Say which bills to send"),
        (
            {"date_from": "2026-11-02", "date_to": "2026-11-01"},
            "Choose a date on or after the From date.",
        ),
        ({"bill_ids": ["no-such-bill"]}, "No bill with id: no-such-bill."),
    ],
)
def test_backfill_refusals_say_what_to_correct(operator_client, connected, data, message):
    response = operator_client.post(
        reverse("m3terdata:backfill"), {"integration": connected.pk, **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not IntegrationRun.objects.exists()


def test_backfill_to_a_disconnected_integration_is_refused(operator_client):
    unplugged = IntegrationConfigurationFactory(name="Unplugged")
    BillFactory(bill_job_id="job-1")
    response = operator_client.post(
        reverse("m3terdata:backfill"), {"integration": unplugged.pk, "bill_job_id": "job-1"}
    )
    assert "has no credential attached" in response.content.decode()
    assert not IntegrationRun.objects.exists()


def test_a_finished_parent_is_not_retryable_when_no_child_failed(operator_client, connected):
    parent = IntegrationRunFactory(
        bill=None, integration=connected, trigger=RunTrigger.BACKFILL, complete=True
    )
    IntegrationRunFactory(parent=parent, integration=connected, status=RunStatus.COMPLETE)
    html = operator_client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    assert reverse("runs:retry", args=[parent.pk]) not in html


def test_a_bill_viewer_who_may_not_see_runs_sees_no_delivery_details(client, connected):
    client.force_login(user_with(["m3terdata.view_bill"], "bills-only"))
    bill = BillFactory()
    run = IntegrationRunFactory(bill=bill, integration=connected, complete=True)
    DeliveryFactory(integration=connected, bill_m3ter_id=bill.m3ter_id, external_id="txn_01hidden")

    html = client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id])).content.decode()

    assert client.get(reverse("runs:list")).status_code == 403
    assert bill.m3ter_id in html
    assert "txn_01hidden" not in html and run.external_id not in html
    assert reverse("runs:detail", args=[run.pk]) not in html
    assert "Deliveries (Paddle transactions) and runs are shown to those who may view" in html


def test_amounts_are_written_in_the_currency_and_lines_numbered_from_one(viewer_client):
    bill = BillFactory(currency="JPY", total=Decimal("-25.0000000000"))
    LineItemFactory(bill=bill, sequence=0, subtotal=Decimal("-25.0000000000"))

    response = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))

    html = response.content.decode()
    assert "-25 JPY" in html and "-25.00" not in html and "0000000000" not in html
    assert "<td>1</td>" in html and "<td>0</td>" not in html
    assert 'rel="icon"' in html
