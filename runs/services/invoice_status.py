"""The invoice's life in Paddle after the draft, on the bill's Delivery: the one function that
moves it, whatever brought the news (a webhook or the reconciliation), and the reset a canceled
invoice gets before the bill is sent again."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction

from runs.models import INVOICE_STATUS_RANK, Delivery, InvoiceStatus

# Paddle's transaction statuses, as the hub names them.
_FROM_PADDLE = {status.value.lower(): status for status in InvoiceStatus}


@dataclass(frozen=True)
class TransactionNews:
    """What Paddle said about one transaction, and when (the event's occurred_at, or the
    transaction's updated_at when the reconciliation read it)."""

    transaction_id: str
    paddle_status: str
    occurred_at: datetime.datetime
    invoice_number: str | None = None
    billed_at: datetime.datetime | None = None
    # The credential whose Paddle account said it: only its integrations' deliveries listen.
    credential_id: object = None


def invoice_status_from_paddle(paddle_status: str) -> InvoiceStatus | None:
    return _FROM_PADDLE.get((paddle_status or "").lower())


def _moves(delivery: Delivery, status: InvoiceStatus, occurred_at: datetime.datetime) -> bool:
    """Whether news of `status` at `occurred_at` is newer than what the delivery holds and takes
    the invoice forward (or keeps it where it is: a later event may bring the invoice number)."""
    if delivery.invoice_status_at is not None and occurred_at <= delivery.invoice_status_at:
        return False
    if not delivery.invoice_status:
        return True
    current = InvoiceStatus(delivery.invoice_status)
    if current in (InvoiceStatus.CANCELED, InvoiceStatus.COMPLETED):
        return status == current
    if status == InvoiceStatus.CANCELED:
        return INVOICE_STATUS_RANK[current] < INVOICE_STATUS_RANK[InvoiceStatus.PAID]
    return INVOICE_STATUS_RANK[status] >= INVOICE_STATUS_RANK[current]


def delivery_invoice_status_apply(*, news: TransactionNews) -> list[Delivery]:
    """Apply Paddle's news to the deliveries holding that transaction; the ones that changed.

    Duplicate and out-of-order news (older than the last applied, or a step back, like
    `billed` after `paid`) changes nothing."""
    status = invoice_status_from_paddle(news.paddle_status)
    if status is None or not news.transaction_id:
        return []
    deliveries = Delivery.objects.filter(external_id=news.transaction_id)
    if news.credential_id is not None:
        deliveries = deliveries.filter(integration__credential_id=news.credential_id)
    changed = []
    with transaction.atomic():
        for delivery in deliveries.select_for_update(of=("self",)):
            if not _moves(delivery, status, news.occurred_at):
                continue
            delivery.invoice_status = status
            delivery.invoice_status_at = news.occurred_at
            if news.invoice_number:
                delivery.invoice_number = news.invoice_number
            if status not in (InvoiceStatus.DRAFT, InvoiceStatus.READY, InvoiceStatus.CANCELED):
                delivery.issued_at = delivery.issued_at or news.billed_at or news.occurred_at
            if status in (InvoiceStatus.PAID, InvoiceStatus.COMPLETED):
                delivery.paid_at = delivery.paid_at or news.occurred_at
            if status == InvoiceStatus.CANCELED:
                delivery.canceled_at = news.occurred_at
            delivery.save(
                update_fields=[
                    "invoice_status",
                    "invoice_status_at",
                    "invoice_number",
                    "issued_at",
                    "paid_at",
                    "canceled_at",
                    "updated_at",
                ]
            )
            changed.append(delivery)
    return changed


def delivery_invoice_replace(*, delivery: Delivery) -> str:
    """Forget a canceled transaction so the bill's next delivery makes a new draft; the id that
    was forgotten. Only a canceled invoice may be replaced: never two live ones for a bill."""
    if delivery.invoice_status != InvoiceStatus.CANCELED:
        raise ValueError(f"delivery {delivery.pk} is {delivery.invoice_status or 'not canceled'}")
    old = delivery.external_id
    for name in ("external_id", "invoice_status", "invoice_number", "delivered_hash"):
        setattr(delivery, name, "")
    for name in (
        "invoice_status_at",
        "issued_at",
        "paid_at",
        "canceled_at",
        "delivered_at",
        "create_sent_at",
    ):
        setattr(delivery, name, None)
    delivery.delivered_version = None
    delivery.save()
    return old
