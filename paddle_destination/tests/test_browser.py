"""The loop closes, end to end: a draft the hub made is issued and then paid in the Paddle
stand-in, whose signed webhooks reach the live hub; the bill page, the bills list, the run's and
the bill's API answers and the credential's page show it within seconds."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from paddle_destination.notifications import notifications_set_up
from runs.models import Delivery
from runs.services import runs_create_for_bill_event
from runs.tests.factories import bill_with_lines, connected_integration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(live_server, page: Page):
    user = get_user_model().objects.create_superuser("finance", "finance@example.com", "pw")
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return client


def run_api(client, run) -> dict:
    return client.get(f"/organizations/{settings.M3TER_ORG_ID}/integrationruns/{run.pk}").json()


def test_issued_then_paid_in_paddle_shows_on_the_bill_page_and_in_the_api(
    page: Page, live_server, admin, paddle, api_key, artifacts_dir
):
    settings.HUB_PUBLIC_URL = live_server.url
    integration = connected_integration(api_key=api_key, name="Paddle Sandbox")
    sync = notifications_set_up(credential=integration.credential)
    assert sync.webhooks_set_up, sync.webhook_error
    bill = bill_with_lines("12.50", "30.00")
    (run,) = runs_create_for_bill_event(bill=bill)  # delivered inline (Q_CLUSTER_SYNC)
    txn = Delivery.objects.get().external_id
    bill_page = live_server.url + reverse("m3terdata:bill_detail", args=[bill.m3ter_id])

    started = time.monotonic()
    paddle.mark_transaction(txn, "billed")
    assert paddle.notifications.wait_sent()
    page.goto(bill_page)
    expect(page.get_by_test_id("invoice-status")).to_have_text(re.compile(r"^Issued 325-\d+"))
    issued_after = time.monotonic() - started
    assert run_api(admin, run)["invoiceStatus"] == "BILLED"

    paddle.mark_transaction(txn, "paid")
    assert paddle.notifications.wait_sent()
    page.reload()
    expect(page.get_by_test_id("invoice-status")).to_have_text(
        re.compile(r"^Issued 325-\d+ · paid \d+ \w{3}$")
    )
    page.screenshot(path=artifacts_dir / "bill-invoice-paid.png", full_page=True)
    body = run_api(admin, run)
    assert (body["invoiceStatus"], body["invoiceNumber"][:4]) == ("PAID", "325-")
    assert body["dtInvoiceIssued"] and body["dtInvoicePaid"]
    (invoice,) = admin.get(f"/organizations/{settings.M3TER_ORG_ID}/bills/{bill.m3ter_id}").json()[
        "paddleInvoices"
    ]
    assert (invoice["externalId"], invoice["invoiceStatus"]) == (txn, "PAID")
    assert invoice["invoiceNumber"] == body["invoiceNumber"]
    assert issued_after < 5, f"the issued invoice showed after {issued_after:.1f} s"

    page.goto(live_server.url + reverse("m3terdata:bill_list") + "?invoice_status=PAID")
    expect(page.get_by_test_id("bill-invoice-status")).to_have_text(
        re.compile(r"^Issued 325-\d+ · paid \d+ \w{3}$")
    )

    page.goto(live_server.url + reverse("runs:detail", args=[run.pk]))
    expect(page.get_by_test_id("invoice-status")).to_contain_text("paid")


def test_credential_page_shows_webhooks_and_sets_them_up_again(
    page: Page, live_server, admin, paddle, api_key, artifacts_dir
):
    settings.HUB_PUBLIC_URL = live_server.url
    integration = connected_integration(api_key=api_key)
    credential = integration.credential
    page.goto(
        live_server.url
        + reverse("admin:credentials_integrationcredential_change", args=[credential.pk])
    )
    status = page.get_by_test_id("status-sync")
    expect(status.first).to_have_text("Webhooks are not set up yet.")

    page.get_by_role("button", name="Set up webhooks again").click()

    expect(page.get_by_text("Paddle's webhooks are set up.")).to_be_visible()
    expect(status.first).to_contain_text(
        f"Paddle sends invoice events to {live_server.url}/paddle/webhooks/{credential.pk}/"
    )
    expect(status.nth(1)).to_have_text("No webhook received yet.")
    page.screenshot(path=artifacts_dir / "credential-webhooks.png", full_page=True)
    (setting,) = paddle.notifications.list(None)
    assert setting["endpoint_secret_key"] not in page.content()
