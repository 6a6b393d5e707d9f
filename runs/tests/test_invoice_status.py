"""The invoice's status on the bill's delivery: the one function that moves it (forward only,
newer news only), and what the run engine does for an issued or canceled invoice."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from m3terdata.models import LineItem
from runs.models import AttemptOutcome, Delivery, InvoiceStatus, RunStatus
from runs.services.invoice_status import TransactionNews, delivery_invoice_status_apply
from runs.tests.factories import DeliveryFactory, bill_with_lines
from runs.tests.helpers import transactions

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)


def news(txn, status, minutes, **extra):
    return TransactionNews(
        transaction_id=txn,
        paddle_status=status,
        occurred_at=T0 + datetime.timedelta(minutes=minutes),
        **extra,
    )


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("billed", 1), ("paid", 2), ("completed", 3)], InvoiceStatus.COMPLETED),
        ([("billed", 1), ("past_due", 2), ("paid", 3)], InvoiceStatus.PAID),
        ([("paid", 2), ("billed", 1)], InvoiceStatus.PAID),  # older news
        ([("paid", 2), ("billed", 3)], InvoiceStatus.PAID),  # a step back
        ([("paid", 2), ("canceled", 3)], InvoiceStatus.PAID),  # a paid invoice is not canceled
        ([("billed", 1), ("canceled", 2), ("paid", 3)], InvoiceStatus.CANCELED),
        ([("draft", 1), ("ready", 2), ("canceled", 3)], InvoiceStatus.CANCELED),
        ([("billed", 1), ("nonsense", 2)], InvoiceStatus.BILLED),
    ],
)
def test_status_moves_forward_on_newer_news_only(events, expected):
    delivery = DeliveryFactory(external_id="txn_a")

    for status, minutes in events:
        delivery_invoice_status_apply(news=news("txn_a", status, minutes))

    assert Delivery.objects.get(pk=delivery.pk).invoice_status == expected


def test_the_same_news_twice_changes_nothing():
    delivery = DeliveryFactory(external_id="txn_a")
    first = delivery_invoice_status_apply(news=news("txn_a", "billed", 1, invoice_number="325-1"))

    again = delivery_invoice_status_apply(news=news("txn_a", "billed", 1, invoice_number="325-9"))

    assert (len(first), again) == (1, [])
    assert Delivery.objects.get(pk=delivery.pk).invoice_number == "325-1"


def test_the_invoice_number_arrives_on_a_later_update_of_the_same_status():
    delivery = DeliveryFactory(external_id="txn_a")
    delivery_invoice_status_apply(news=news("txn_a", "billed", 1))

    delivery_invoice_status_apply(news=news("txn_a", "billed", 2, invoice_number="325-10001"))

    after = Delivery.objects.get(pk=delivery.pk)
    assert (after.invoice_status, after.invoice_number) == (InvoiceStatus.BILLED, "325-10001")
    assert after.issued_at == T0 + datetime.timedelta(minutes=1)


def issued(paddle, run, status="billed"):
    """Paddle issued (and maybe more) the run's transaction, and the hub heard of it."""
    paddle.mark_transaction(run.external_id, status)
    (txn,) = [t for t in transactions(paddle) if t["id"] == run.external_id]
    delivery_invoice_status_apply(
        news=TransactionNews(
            transaction_id=txn["id"],
            paddle_status=txn["status"],
            occurred_at=timezone.now(),
            invoice_number=txn["invoice_number"],
        )
    )


def recalculated(bill):
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal("99.00"))
    bill.content_hash, bill.version = "recalculated", bill.version + 1
    bill.save()


@pytest.mark.parametrize("status", ["billed", "paid", "past_due"])
def test_a_recalculated_issued_bill_is_not_sent_and_makes_no_request(
    paddle, integration, send, status
):
    bill = bill_with_lines("12.50")
    (first,) = send(bill)
    issued(paddle, first, status)
    recalculated(bill)
    requests_before = paddle.stats()["total"]

    (run,) = send(bill)

    assert run.status == RunStatus.INVOICE_ALREADY_PAID
    assert paddle.stats()["total"] == requests_before
    assert f"Transaction {first.external_id} was issued as invoice 325-" in run.error
    assert "no longer lets it change" in run.error
    assert "adjustment or credit note" in run.error_hint
    assert run.external_id == first.external_id
    assert run.attempts.get().outcome == AttemptOutcome.SKIPPED
    (txn,) = transactions(paddle)
    assert txn["details"]["totals"]["subtotal"] == "1250"


def test_a_canceled_invoice_is_replaced_by_a_new_draft_on_the_next_bill_event(
    paddle, integration, send
):
    bill = bill_with_lines("12.50")
    (first,) = send(bill)
    issued(paddle, first, "canceled")
    recalculated(bill)

    (run,) = send(bill)

    assert run.status == RunStatus.COMPLETE
    assert run.external_id != first.external_id
    by_id = {t["id"]: t["status"] for t in transactions(paddle)}
    assert by_id == {first.external_id: "canceled", run.external_id: "ready"}
    delivery = Delivery.objects.get()
    assert (delivery.external_id, delivery.invoice_status) == (run.external_id, "")
    assert any(
        f"Transaction {first.external_id} was canceled in Paddle" in entry.message
        for entry in run.log_entries.all()
    )
