"""The demo's run history: the seeded bills' runs happen in the seconds after seeding, so the
Runs page would show sixty runs in one minute. Once they finish, each is moved back, whole (its
times, attempts, log and the integration events it raised), to a few minutes after m3ter
calculated its bill, as if the hub had been running all along (the bill's sync record too). For
the demo only."""

import datetime
import time

from django.db import transaction

from integrations.models import IntegrationEvent
from runs.models import (
    FINAL_STATUSES,
    Delivery,
    IntegrationRun,
    RunAttempt,
    RunLogEntry,
    RunTrigger,
)

RUN_TIMES = ["created_at", "queued_at", "dt_started", "dt_completed"]


def demo_runs_backdate(*, since: datetime.datetime, timeout_seconds: float) -> int:
    """Wait up to `timeout_seconds` for the bill-event runs made since `since` to finish, then
    move each finished one back to its bill's calculation time. Returns how many moved."""
    made = IntegrationRun.objects.filter(
        created_at__gte=since, trigger=RunTrigger.BILL_EVENT, bill__last_calculated_at__isnull=False
    )
    deadline = time.monotonic() + timeout_seconds
    while made.exclude(status__in=FINAL_STATUSES).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    with transaction.atomic():
        runs = list(made.filter(status__in=FINAL_STATUSES).select_related("bill"))
        shift = {}
        for position, run in enumerate(runs):
            # A few minutes apart, in a stable order: how a worker works through a bill run.
            when = run.bill.last_calculated_at + datetime.timedelta(minutes=5 + position % 7)
            shift[run.pk] = run.created_at - when
            for field in RUN_TIMES:
                if getattr(run, field) is not None:
                    setattr(run, field, getattr(run, field) - shift[run.pk])
        IntegrationRun.objects.bulk_update(runs, RUN_TIMES, batch_size=500)
        _move(RunAttempt, shift, "started_at")
        _move(RunLogEntry, shift, "created_at")
        # The integration events its failed runs raised, so their dates agree with the runs'.
        _move(IntegrationEvent, shift, "created_at", "last_occurred_at")
        by_delivery = {(run.integration_id, run.entity_id): shift[run.pk] for run in runs}
        deliveries = [
            delivery
            for delivery in Delivery.objects.filter(
                bill_m3ter_id__in={bill for _, bill in by_delivery}, delivered_at__isnull=False
            )
            if (delivery.integration_id, delivery.bill_m3ter_id) in by_delivery
        ]
        for delivery in deliveries:
            key = (delivery.integration_id, delivery.bill_m3ter_id)
            delivery.delivered_at -= by_delivery[key]
        Delivery.objects.bulk_update(deliveries, ["delivered_at"], batch_size=500)
    return len(runs)


def _move(model, shift: dict, *fields: str) -> None:
    rows = list(model.objects.filter(run_id__in=shift).only("pk", "run_id", *fields))
    for row in rows:
        for field in fields:
            setattr(row, field, getattr(row, field) - shift[row.run_id])
    model.objects.bulk_update(rows, fields, batch_size=500)
