"""Where the invoice's life in Paddle shows: the credential's page (webhooks, the last one, the
last poll; never the secret), the bill page, the run page and the run history with its filter."""

import datetime

import pytest
from django.urls import reverse

from paddle_destination.notifications import notifications_set_up
from paddle_destination.reconcile import status_sync_reconcile
from runs.models import InvoiceStatus
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory

pytestmark = pytest.mark.django_db

DAY = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)


def credential_page(admin_client, credential):
    url = reverse("admin:credentials_integrationcredential_change", args=[credential.pk])
    return admin_client.get(url).content.decode()


def test_credential_page_says_webhooks_are_set_up_and_never_shows_the_secret(
    admin_client, paddle, hub_url, credential, integration
):
    sync = notifications_set_up(credential=credential)
    status_sync_reconcile(credential=credential)
    secret = paddle.notifications.get(sync.notification_setting_id)["endpoint_secret_key"]

    html = credential_page(admin_client, credential)

    assert "Webhooks are set up: Paddle sends invoice events to" in html
    assert f"http://testserver/paddle/webhooks/{credential.pk}/" in html
    assert "No webhook received yet." in html
    assert "Paddle last polled" in html
    assert 'id="set-up-webhooks"' in html
    assert secret not in html and sync.endpoint_secret_key_encrypted not in html


def test_without_a_public_url_the_page_explains_polling_only(admin_client, paddle, credential):
    html = credential_page(admin_client, credential)

    assert "HUB_PUBLIC_URL is not set" in html
    assert "by polling Paddle only" in html


def test_set_up_again_button_makes_the_setting(admin_client, paddle, hub_url, credential):
    url = reverse("admin:credentials_integrationcredential_set_up_webhooks", args=[credential.pk])

    response = admin_client.post(url, follow=True)

    assert "Paddle&#x27;s webhooks are set up." in response.content.decode()
    assert len(paddle.notifications.list(None)) == 1


def paid_run(integration, bill_id="bill-1"):
    DeliveryFactory(
        integration=integration,
        bill_m3ter_id=bill_id,
        invoice_status=InvoiceStatus.PAID,
        invoice_number="325-10042",
        issued_at=DAY,
        paid_at=DAY + datetime.timedelta(days=2),
    )
    return IntegrationRunFactory(
        integration=integration, complete=True, bill__m3ter_id=bill_id, entity_id=bill_id
    )


def test_run_page_and_history_show_the_invoice_and_filter_by_it(admin_client, integration):
    paid = paid_run(integration)
    other = IntegrationRunFactory(integration=integration, complete=True)

    detail = admin_client.get(reverse("runs:detail", args=[paid.pk])).content.decode()
    listed = admin_client.get(reverse("runs:list")).content.decode()
    only_paid = admin_client.get(reverse("runs:list"), {"invoice_status": "PAID"})

    assert "Issued 325-10042 · paid 3 Dec" in detail
    assert "Issued 325-10042 · paid 3 Dec" in listed
    runs = list(only_paid.context["page"].object_list)
    assert [r.pk for r in runs] == [paid.pk]
    assert other.pk not in [r.pk for r in runs]


def test_bill_page_shows_the_invoice(admin_client, integration):
    run = paid_run(integration)

    html = admin_client.get(reverse("m3terdata:bill_detail", args=[run.entity_id])).content.decode()

    assert "Invoice in Paddle:" in html
    assert "Issued 325-10042 · paid 3 Dec" in html
