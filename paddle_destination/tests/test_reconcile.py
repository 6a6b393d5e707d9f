"""The reconciliation: with no webhooks at all, one cycle brings the invoice statuses."""

import datetime

import pytest
from django.utils import timezone

from paddle_destination.models import PaddleStatusSync
from paddle_destination.reconcile import credentials_reconcile_due, status_sync_reconcile
from runs.models import Delivery, InvoiceStatus
from runs.services import runs_create_for_bill_event
from runs.tests.factories import DeliveryFactory, bill_with_lines, connected_integration
from runs.tests.helpers import transactions
from standins.paddle import make_api_key
from standins.paddle.pytest_plugin import draft_transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(inline):
    def send_(bill):
        with inline():
            runs_create_for_bill_event(bill=bill)
        return Delivery.objects.get(bill_m3ter_id=bill.m3ter_id)

    return send_


@pytest.fixture
def inline(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_one_cycle_brings_issued_and_paid_without_webhooks(paddle, integration, send, settings):
    settings.HUB_PUBLIC_URL = ""  # Paddle cannot reach the hub: polling only
    issued, paid, untouched = (send(bill_with_lines("12.50")) for _ in range(3))
    paddle.mark_transaction(issued.external_id, "billed")
    paddle.mark_transaction(paid.external_id, "billed")
    paddle.mark_transaction(paid.external_id, "paid")

    changed = status_sync_reconcile(credential=integration.credential)

    numbers = {t["id"]: t["invoice_number"] for t in transactions(paddle)}
    after = {d.external_id: d for d in Delivery.objects.all()}
    assert changed == 3  # the untouched draft's status is learned too
    assert after[issued.external_id].invoice_status == InvoiceStatus.BILLED
    assert after[issued.external_id].invoice_number == numbers[issued.external_id]
    assert after[paid.external_id].invoice_status == InvoiceStatus.PAID
    assert after[paid.external_id].paid_at is not None
    assert after[untouched.external_id].invoice_status == InvoiceStatus.READY
    sync = PaddleStatusSync.objects.get(credential=integration.credential)
    assert sync.last_reconciled_at is not None and sync.last_reconcile_changed == 3
    assert sync.reconcile_cursor is not None and sync.last_reconcile_error == ""


def test_the_next_cycle_reads_only_what_changed_since(paddle, integration, send):
    delivery = send(bill_with_lines("12.50"))
    status_sync_reconcile(credential=integration.credential)

    again = status_sync_reconcile(credential=integration.credential)
    paddle.mark_transaction(delivery.external_id, "billed")
    later = status_sync_reconcile(credential=integration.credential)

    assert (again, later) == (0, 1)
    assert Delivery.objects.get().invoice_status == InvoiceStatus.BILLED


def test_many_transactions_are_read_page_by_page(paddle, integration):
    ids = [draft_transaction(paddle) for _ in range(35)]
    for txn in ids:
        DeliveryFactory(integration=integration, external_id=txn)
        paddle.mark_transaction(txn, "paid")

    changed = status_sync_reconcile(credential=integration.credential)

    assert changed == 35
    assert paddle.request_count("GET", "/transactions") == 2
    assert set(Delivery.objects.values_list("invoice_status", flat=True)) == {InvoiceStatus.PAID}


def test_a_failed_cycle_is_recorded_and_keeps_its_cursor(paddle, integration, send):
    send(bill_with_lines("12.50"))
    status_sync_reconcile(credential=integration.credential)
    cursor = PaddleStatusSync.objects.get().reconcile_cursor
    paddle.push_fault("http_500", method="GET", path="/transactions")

    status_sync_reconcile(credential=integration.credential)

    sync = PaddleStatusSync.objects.get()
    assert sync.reconcile_cursor == cursor
    assert "internal error" in sync.last_reconcile_error.lower()


def test_only_credentials_in_use_and_due_are_reconciled(paddle, integration, settings, credential):
    settings.PADDLE_RECONCILE_INTERVAL_MINUTES = 10

    first = credentials_reconcile_due()
    second = credentials_reconcile_due()
    PaddleStatusSync.objects.update(
        last_reconciled_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    third = credentials_reconcile_due()

    assert (first, second, third) == ([str(credential.pk)], [], [str(credential.pk)])


def test_a_cycle_points_webhooks_at_a_changed_public_url(paddle, integration, settings):
    credential = integration.credential
    settings.HUB_PUBLIC_URL = "https://old.example.com"
    credentials_reconcile_due()
    old = PaddleStatusSync.objects.get()
    settings.HUB_PUBLIC_URL = "https://hub.example.com"
    PaddleStatusSync.objects.update(last_reconciled_at=None)

    credentials_reconcile_due()

    (setting,) = paddle.notifications.list(None)
    assert setting["destination"] == f"https://hub.example.com/paddle/webhooks/{credential.pk}/"
    assert setting["id"] != old.notification_setting_id
    PaddleStatusSync.objects.update(last_reconciled_at=None)
    asked = paddle.stats()["total"]
    credentials_reconcile_due()
    # Up to date: the next cycle only polls transactions, it makes no new setting.
    assert paddle.stats()["total"] - asked == 1
    assert paddle.request_count("GET", "/transactions") >= 1


def test_a_cycle_makes_the_webhooks_whose_set_up_paddle_refused(paddle, integration, hub_url):
    paddle.push_fault("http_500", method="POST", path="/notification-settings", status=503)
    credentials_reconcile_due()
    failed = PaddleStatusSync.objects.get()
    assert not failed.webhooks_set_up and failed.webhook_error
    PaddleStatusSync.objects.update(last_reconciled_at=None)

    credentials_reconcile_due()

    healed = PaddleStatusSync.objects.get()
    assert healed.webhooks_set_up and not healed.webhook_error
    assert [s["id"] for s in paddle.notifications.list(None)] == [healed.notification_setting_id]


def test_each_credential_of_one_paddle_account_brings_its_own_invoices(paddle, inline):
    """Two keys of one Paddle account list the same transactions; a cycle of either moves only
    its own credential's deliveries."""
    first, second = (connected_integration(api_key=make_api_key("sandbox")) for _ in range(2))
    with inline():
        runs_create_for_bill_event(bill=bill_with_lines("12.50"))
    ours = {d.integration_id: d for d in Delivery.objects.all()}
    for delivery in ours.values():
        paddle.mark_transaction(delivery.external_id, "billed")
        paddle.mark_transaction(delivery.external_id, "paid")

    by_first = status_sync_reconcile(credential=first.credential)
    after_first = {d.integration_id: d.invoice_status for d in Delivery.objects.all()}
    by_second = status_sync_reconcile(credential=second.credential)

    assert (by_first, by_second) == (1, 1)
    assert after_first == {first.pk: InvoiceStatus.PAID, second.pk: ""}
    assert set(Delivery.objects.values_list("invoice_status", flat=True)) == {InvoiceStatus.PAID}
