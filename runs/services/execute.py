"""Executing a run: the worker claims it, checks it can be delivered, claims the bill's Delivery,
and hands the bill to Paddle; `finish` writes what came of it."""

from __future__ import annotations

import contextlib
import datetime
import logging
import time

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from credentials.services import credential_paddle_answered
from integrations.models import IntegrationConfiguration
from integrations.rules import bill_changed_since_delivery, integration_send_refusal
from m3terpaddle.text import sentences
from paddle_destination.delivery import invoice_deliver, paddle_transaction_url
from paddle_destination.errors import PaddleProblem
from runs.models import (
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    InvoiceStatus,
    LogLevel,
    RunStatus,
    RunTrigger,
)
from runs.services.events import run_event_raise
from runs.services.finish import Attempt, run_failed, run_finish
from runs.services.invoice_status import delivery_invoice_replace
from runs.services.state import BACKFILL_PARENT, CLAIMABLE_STATUSES, RunChanged

logger = logging.getLogger(__name__)

# Runs that follow the "not changed since its last delivery" rule when they execute; a person's
# Send again and Replay always send.
_SKIP_UNCHANGED_TRIGGERS = frozenset({RunTrigger.BILL_EVENT, RunTrigger.BACKFILL})
# Another run holds the bill's Delivery: wait for it up to CLAIM_WAIT_SECONDS (it is usually
# done in well under a second), looking every CLAIM_POLL_SECONDS; past that, retry later.
CLAIM_WAIT_SECONDS = 5.0
CLAIM_POLL_SECONDS = 0.1
_BUSY_RETRY_SECONDS = 10


def run_execute(*, run_id) -> IntegrationRun | None:
    """Deliver a run's bill to its integration (the worker's entry point).

    Does nothing (returns None) unless the run is waiting and due, so a task delivered twice or
    late is harmless. Never leaves the run STARTED, short of the worker dying."""
    run = _run_claim(run_id=run_id)
    if run is None:
        return None
    attempt = Attempt(run=run)
    try:
        _run_deliver(run, attempt)
    except RunChanged:
        logger.warning("Run %s was taken back while it was being delivered.", run.pk)
    except Exception as exc:
        logger.exception("Run %s failed unexpectedly.", run.pk)
        with contextlib.suppress(RunChanged):
            run_finish(
                run,
                attempt,
                to=RunStatus.ERROR,
                outcome=AttemptOutcome.ERROR,
                message=f"Unexpected error: {type(exc).__name__}: {exc}",
                level=LogLevel.ERROR,
                error=f"The delivery failed unexpectedly ({type(exc).__name__}: {exc}).",
                error_hint="This is not one of Paddle's known answers; the server's log has the "
                "details. Retry the run; if it fails the same way, report it. Nothing is sent "
                "twice: a retry first looks for a transaction this attempt may have made.",
            )
            run_event_raise(run=run)
    return run


def _run_claim(*, run_id) -> IntegrationRun | None:
    """Take the run for this worker, if it is waiting and due: one conditional UPDATE, so two
    workers never both take it."""
    now = timezone.now()
    claimed = (
        IntegrationRun.objects.filter(pk=run_id, status__in=CLAIMABLE_STATUSES)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(BACKFILL_PARENT)
        .update(
            status=RunStatus.STARTED,
            attempt_count=F("attempt_count") + 1,
            lease_expires_at=now + datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS),
            dt_started=now,
            dt_completed=None,
            updated_at=now,
        )
    )
    if not claimed:
        return None
    return IntegrationRun.objects.select_related("integration__credential", "bill__account").get(
        pk=run_id
    )


def _preflight(run: IntegrationRun) -> tuple[str, str, str] | None:
    """(status, error, what to do) when the run cannot be delivered at all, else None."""
    integration = run.integration
    if integration is None:
        return (
            RunStatus.ERROR,
            f"The integration {run.integration_name!r} was deleted.",
            "Nothing to do: runs of a deleted integration are kept for review only.",
        )
    cannot_send = integration_send_refusal(integration=integration)
    if cannot_send:
        status = RunStatus.DISABLED if cannot_send.disabled else RunStatus.ERROR
        return status, cannot_send.reason, sentences(cannot_send.fix, "Then Retry this run")
    if run.bill is None:
        return (
            RunStatus.ERROR,
            f"Bill {run.entity_id} is no longer in the hub.",
            "Import the bill again from m3ter; its bill event sends it.",
        )
    return None


def _run_deliver(run: IntegrationRun, attempt: Attempt) -> None:
    refusal = _preflight(run)
    if refusal is not None:
        status, error, hint = refusal
        run_finish(
            run,
            attempt,
            to=status,
            outcome=AttemptOutcome.SKIPPED,
            message=error,
            level=LogLevel.WARNING,
            error=error,
            error_hint=hint,
        )
        return
    integration, bill = run.integration, run.bill
    delivery, waited = _delivery_claim(run)
    if waited:
        attempt.log(
            LogLevel.INFO,
            f"Waited {waited:.1f} s for another run delivering this bill to this integration.",
            {"claim_wait_seconds": round(waited, 3)},
        )
    if delivery is None:
        run_finish(
            run,
            attempt,
            to=RunStatus.AWAITING_RETRY,
            outcome=AttemptOutcome.SKIPPED,
            message="Another run is delivering this bill to this integration right now; this "
            "one follows when it has finished.",
            next_attempt_at=timezone.now() + datetime.timedelta(seconds=_BUSY_RETRY_SECONDS),
        )
        return
    attempt.delivery = delivery
    if delivery.invoice_issued:
        _run_already_issued(run, attempt, delivery)
        return
    if delivery.invoice_status == InvoiceStatus.CANCELED:
        replaced = delivery_invoice_replace(delivery=delivery)
        attempt.log(
            LogLevel.INFO,
            f"Transaction {replaced} was canceled in Paddle: a new draft is made for the bill "
            "(the canceled one can never be issued, so the bill still has one live invoice).",
            {"canceled_transaction_id": replaced},
        )
    if (
        run.trigger in _SKIP_UNCHANGED_TRIGGERS
        and delivery.external_id
        and not bill_changed_since_delivery(bill=bill, delivered_hash=delivery.delivered_hash)
    ):
        run_finish(
            run,
            attempt,
            to=RunStatus.COMPLETE,
            outcome=AttemptOutcome.SKIPPED,
            message=sentences(
                f"The bill has not changed since it was delivered to transaction "
                f"{delivery.external_id}; nothing was sent",
                delivery.total_note,
            ),
            level=LogLevel.WARNING if delivery.total_note else LogLevel.INFO,
            external_id=delivery.external_id,
            total_note=delivery.total_note,
            url=paddle_transaction_url(
                destination=integration.destination, transaction_id=delivery.external_id
            ),
            error="",
            error_hint="",
            next_attempt_at=None,
        )
        return

    known = delivery.external_id or None
    reconcile = known is None and delivery.create_sent_at is not None
    attempt.request.update(
        {"bill_version": bill.version, "known_transaction_id": known, "reconcile": reconcile}
    )
    if reconcile:
        attempt.log(
            LogLevel.INFO,
            "An earlier attempt may have created the transaction without storing its id: "
            "Paddle is asked first.",
        )

    def on_transaction_created(transaction_id: str, customer_id: str | None = None) -> None:
        _delivery_store_transaction(
            run=run, delivery=delivery, transaction_id=transaction_id, customer_id=customer_id
        )

    try:
        result = invoice_deliver(
            integration=integration,
            bill=bill,
            known_transaction_id=known,
            reconcile=reconcile,
            on_transaction_created=on_transaction_created,
            log=attempt.log,
            before_create=lambda: _delivery_create_sent(delivery=delivery),
        )
    except PaddleProblem as problem:
        run_failed(run, attempt, problem)
        return
    _run_delivered(run, attempt, result)


def _run_already_issued(run: IntegrationRun, attempt: Attempt, delivery: Delivery) -> None:
    """The invoice is issued (or paid) in Paddle, which refuses any change to it: end as m3ter
    does, without a request to Paddle."""
    status = InvoiceStatus(delivery.invoice_status)
    number = f" as invoice {delivery.invoice_number}" if delivery.invoice_number else ""
    reason = (
        f"Transaction {delivery.external_id} was issued{number} and is {status.label.lower()} "
        "in Paddle, which no longer lets it change: this version of the bill was not sent."
    )
    run_finish(
        run,
        attempt,
        to=RunStatus.INVOICE_ALREADY_PAID,
        outcome=AttemptOutcome.SKIPPED,
        message=reason,
        level=LogLevel.WARNING,
        external_id=delivery.external_id,
        url=paddle_transaction_url(
            destination=run.integration.destination, transaction_id=delivery.external_id
        ),
        error=reason,
        error_hint="Correct the invoice in Paddle with an adjustment or credit note if the "
        "change matters; the hub never alters an issued invoice.",
        next_attempt_at=None,
    )


def _delivery_claim(run: IntegrationRun) -> tuple[Delivery | None, float]:
    """The bill's Delivery row for the integration, claimed for this run until its lease ends:
    (delivery, seconds waited for another run to let go), or (None, seconds) when another run
    still holds it. The row is committed before anything is sent to Paddle."""
    claim = {"claimed_by": run.pk, "claimed_until": run.lease_expires_at}
    delivery, created = Delivery.objects.get_or_create(
        integration_id=run.integration_id, bill_m3ter_id=run.bill.m3ter_id, defaults=claim
    )
    if created:
        return delivery, 0.0
    started, waited = time.monotonic(), 0.0
    while True:
        now = timezone.now()
        taken = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(Q(claimed_by__isnull=True) | Q(claimed_by=run.pk) | Q(claimed_until__lt=now))
            .update(updated_at=now, **claim)
        )
        if taken:
            delivery.refresh_from_db()
            return delivery, waited
        if waited >= CLAIM_WAIT_SECONDS:
            return None, waited
        time.sleep(CLAIM_POLL_SECONDS)
        waited = time.monotonic() - started


def _delivery_create_sent(*, delivery) -> None:
    """Committed before the create request goes out: from here on, a later attempt without the
    transaction id asks Paddle for what this one may have made."""
    Delivery.objects.filter(pk=delivery.pk).update(create_sent_at=timezone.now())


def _delivery_store_transaction(*, run, delivery, transaction_id: str, customer_id=None) -> None:
    """Paddle has just handed out the transaction id: commit it before anything else can fail,
    so no later attempt creates a second one."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        external_id=transaction_id, customer_id=customer_id or "", updated_at=now
    )
    IntegrationRun.objects.filter(pk=run.pk).update(external_id=transaction_id, updated_at=now)
    delivery.external_id = run.external_id = transaction_id


def _run_delivered(run: IntegrationRun, attempt: Attempt, result) -> None:
    bill, integration = run.bill, run.integration
    now = timezone.now()
    attempt.response.update({"transaction_id": result.transaction_id, "status": result.status})
    run_finish(
        run,
        attempt,
        to=RunStatus.COMPLETE,
        outcome=AttemptOutcome.SUCCESS,
        # A total other than the bill's is never reported as plainly delivered.
        message=sentences(
            f"Delivered: {'created' if result.created else 'updated'} Paddle transaction "
            f"{result.transaction_id} ({result.status})",
            result.total_note,
        ),
        level=LogLevel.WARNING if result.total_note else LogLevel.INFO,
        delivery_fields={
            "external_id": result.transaction_id,
            "customer_id": result.customer_id or "",
            "delivered_hash": bill.content_hash,
            "delivered_version": bill.version,
            "delivered_at": now,
            "total_note": result.total_note,
        },
        external_id=result.transaction_id,
        url=result.url,
        total_note=result.total_note,
        bill_version=bill.version,
        error="",
        error_hint="",
        next_attempt_at=None,
    )
    if integration.consecutive_auth_failures:
        IntegrationConfiguration.objects.filter(pk=integration.pk).update(
            consecutive_auth_failures=0
        )
    credential_paddle_answered(
        credential_id=integration.credential_id,
        ok=True,
        message=f"Paddle accepted the key: it delivered bill {bill.m3ter_id}.",
    )
