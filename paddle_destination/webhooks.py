"""Paddle's webhooks in: verified with the SDK's Verifier, stored, answered at once, applied on a
worker.

A request is refused (and logged without its body) when it is unsigned, its signature matches
none of the `h1` values for the credential's endpoint secret, or its timestamp is further than
PADDLE_WEBHOOK_TOLERANCE_SECONDS from now. A verified event is stored by its credential and event
id, so one Paddle delivers again is answered 200 and not applied twice, while the copy of the same
event Paddle sends another credential of its account (every notification setting gets one) is
that credential's to apply. Events are applied to the credential's own deliveries through
runs.services.invoice_status, which ignores news older than what the hub already holds.
"""

from __future__ import annotations

import datetime
import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task
from paddle_billing.Notifications import Secret, Verifier

from credentials.crypto import SecretDecryptionError
from m3terpaddle.batches import queryset_delete_in_batches
from paddle_destination.models import PaddleEvent, PaddleEventStatus, PaddleStatusSync
from paddle_destination.notifications import status_sync_secret
from runs.services.invoice_status import TransactionNews, delivery_invoice_status_apply

logger = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset(
    {
        "transaction.billed",
        "transaction.updated",
        "transaction.paid",
        "transaction.completed",
        "transaction.past_due",
        "transaction.canceled",
        "transaction.revised",
    }
)


class WebhookRefused(Exception):
    """The webhook is not accepted; `status` is the HTTP answer and `message` says why."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def paddle_webhook_receive(*, credential_id, request) -> PaddleEvent | None:
    """Verify and store one webhook (a Django request); the stored event, or None for one that
    was already received. Raises WebhookRefused."""
    sync = (
        PaddleStatusSync.objects.select_related("credential")
        .filter(credential_id=credential_id)
        .exclude(endpoint_secret_key_encrypted="")
        .first()
    )
    if sync is None:
        raise WebhookRefused(404, "No Paddle webhooks are set up for this credential.")
    try:
        secret = status_sync_secret(sync)
    except SecretDecryptionError:
        logger.error(
            "Paddle webhook for credential %s: its secret cannot be decrypted.", credential_id
        )
        raise WebhookRefused(503, "The hub cannot read this endpoint's secret.") from None
    if not _verified(request, secret):
        logger.warning(
            "Paddle webhook for credential %s refused: missing, wrong or stale Paddle-Signature "
            "(%d bytes, body not logged).",
            credential_id,
            len(request.body),
        )
        raise WebhookRefused(401, "The Paddle-Signature header does not verify.")
    event = _event_parse(request.body)
    now = timezone.now()
    PaddleStatusSync.objects.filter(pk=sync.pk).update(last_webhook_at=now, updated_at=now)
    try:
        with transaction.atomic():
            stored = PaddleEvent.objects.create(credential=sync.credential, **event)
    except IntegrityError:
        return None  # Paddle delivered it again: answered, not applied twice
    transaction.on_commit(lambda: _event_enqueue(event_pk=stored.pk))
    return stored


def _verified(request, secret: str) -> bool:
    verifier = Verifier(maximum_variance=settings.PADDLE_WEBHOOK_TOLERANCE_SECONDS)
    try:
        return bool(verifier.verify(request, Secret(secret)))
    except (ValueError, TypeError):  # a header that does not parse
        return False


def _event_parse(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused(400, "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise WebhookRefused(400, "The body must be a JSON object (a Paddle event).")
    occurred_at = _moment(data.get("occurred_at"))
    missing = [k for k in ("event_id", "event_type") if not isinstance(data.get(k), str)]
    if missing or occurred_at is None:
        raise WebhookRefused(
            400, "The event needs event_id, event_type and occurred_at (an RFC 3339 time)."
        )
    entity = data.get("data") if isinstance(data.get("data"), dict) else {}
    return {
        "event_id": data["event_id"][:64],
        "event_type": data["event_type"][:64],
        "occurred_at": occurred_at,
        "transaction_id": str(entity.get("id") or "")[:64]
        if data["event_type"].startswith("transaction.")
        else "",
        "data": entity,
    }


def _moment(value) -> datetime.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


def _event_enqueue(*, event_pk: int) -> None:
    # By dotted path: tasks.py imports the services, never the reverse.
    async_task(
        "paddle_destination.tasks.paddle_event_process_task",
        event_pk,
        task_name=f"paddle event {event_pk}",
    )


def paddle_event_process(*, event_pk: int) -> PaddleEvent | None:
    """Apply a stored event to the deliveries holding its transaction."""
    event = PaddleEvent.objects.filter(pk=event_pk, status=PaddleEventStatus.RECEIVED).first()
    if event is None:
        return None
    if event.event_type not in HANDLED_EVENTS:
        event.status, event.outcome = PaddleEventStatus.IGNORED, "Not an event the hub uses."
    else:
        news = transaction_news(event.data, event.occurred_at, credential_id=event.credential_id)
        changed = delivery_invoice_status_apply(news=news)
        if changed:
            event.status = PaddleEventStatus.APPLIED
            event.outcome = f"Invoice status {changed[0].invoice_status} on {len(changed)} bill(s)."
        else:
            event.status = PaddleEventStatus.IGNORED
            event.outcome = "Nothing changed: not a transaction of the hub's, or older news."
    event.save(update_fields=["status", "outcome"])
    return event


def paddle_events_prune(*, received_before: datetime.datetime, deadline=None) -> int:
    """Delete the stored events received before `received_before` that were applied or
    ignored; one still waiting for a worker is kept whatever its age. Paddle redelivering a
    pruned event, long after, is stored and applied again, which changes nothing: the delivery
    already holds that news or newer. The number deleted."""
    old = PaddleEvent.objects.filter(received_at__lt=received_before).exclude(
        status=PaddleEventStatus.RECEIVED
    )
    return queryset_delete_in_batches(old, deadline=deadline)


def transaction_news(
    data: dict, occurred_at: datetime.datetime, *, credential_id
) -> TransactionNews:
    """A Paddle transaction (as JSON, in a webhook) as news for the credential's deliveries."""
    return TransactionNews(
        transaction_id=str(data.get("id") or ""),
        paddle_status=str(data.get("status") or ""),
        occurred_at=occurred_at,
        invoice_number=data.get("invoice_number") or None,
        billed_at=_moment(data.get("billed_at")),
        credential_id=credential_id,
    )
