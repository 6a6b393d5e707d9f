"""The periodic sweep (a django-q2 schedule): takes back runs whose worker died, queues retries
that have come due and runs whose queueing was lost, and settles finished backfills."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from runs.models import AttemptOutcome, IntegrationRun, LogLevel, RunAttempt, RunLogEntry, RunStatus
from runs.services.backfill import parent_settle
from runs.services.due import runs_enqueue_due
from runs.services.state import BACKFILL_PARENT, BATCH, NOT_FINAL_STATUSES, runs_transition_bulk

logger = logging.getLogger(__name__)

_SWEEP_MAX_BATCHES = 20


@dataclass(frozen=True)
class SweepResult:
    recovered: int = 0  # runs a dead worker left STARTED, back to AWAITING_RETRY
    timed_out: int = 0  # of those, given up (TIMEOUT_LIMIT_EXCEEDED)
    enqueued: int = 0  # runs put on the task queue
    parents_settled: int = 0  # backfill parents finished


def runs_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Run periodically (a django-q2 schedule installed by runs' migrations): take back runs
    whose worker died, queue runs whose retry has come due (and runs whose queueing was lost),
    and finish backfill parents whose children are all done."""
    now = now or timezone.now()
    recovered, timed_out = _runs_recover_abandoned(now=now)
    enqueued = runs_enqueue_due(now=now, include_lost=True)
    stuck_parents = (
        IntegrationRun.objects.filter(
            BACKFILL_PARENT, status__in=(RunStatus.WAITING, RunStatus.STARTED)
        )
        .exclude(
            Exists(
                IntegrationRun.objects.filter(parent=OuterRef("pk"), status__in=NOT_FINAL_STATUSES)
            )
        )
        .values_list("pk", flat=True)
    )
    settled = sum(parent_settle(parent_id=pk) for pk in list(stuck_parents))
    result = SweepResult(recovered, timed_out, enqueued, settled)
    if result != SweepResult():
        logger.info("Runs sweep: %s", result)
    return result


def _runs_recover_abandoned(*, now) -> tuple[int, int]:
    """STARTED runs whose lease lapsed (the worker died or was killed for its timeout) go back
    to AWAITING_RETRY, due now; their Delivery row has no transaction id unless Paddle's answer
    was stored, so the next attempt reconciles instead of creating again. A run that has used
    its attempts ends TIMEOUT_LIMIT_EXCEEDED."""
    lease = datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS)
    recovered = timed_out = 0
    for _ in range(_SWEEP_MAX_BATCHES):
        with transaction.atomic():
            stale = list(
                IntegrationRun.objects.select_for_update(skip_locked=True)
                .filter(status=RunStatus.STARTED, lease_expires_at__lt=now)
                .only("pk", "attempt_count", "retry_count", "lease_expires_at", "parent_id")[:BATCH]
            )
            if not stale:
                break
            retry, give_up = [], []
            for run in stale:
                (retry if run.retry_count + 1 < settings.RUN_MAX_ATTEMPTS else give_up).append(run)
            runs_transition_bulk(
                run_ids=[run.pk for run in retry],
                frm=RunStatus.STARTED,
                to=RunStatus.AWAITING_RETRY,
                retry_count=F("retry_count") + 1,
                next_attempt_at=now,
                lease_expires_at=None,
                error="The worker delivering this run stopped before it finished.",
                error_hint="It is retried automatically; the next attempt first asks Paddle for "
                "a transaction the lost attempt may have made, so nothing is sent twice.",
            )
            runs_transition_bulk(
                run_ids=[run.pk for run in give_up],
                frm=RunStatus.STARTED,
                to=RunStatus.TIMEOUT_LIMIT_EXCEEDED,
                lease_expires_at=None,
                dt_completed=now,
                error=f"The worker delivering this run stopped before it finished, "
                f"{settings.RUN_MAX_ATTEMPTS} times.",
                error_hint="Check the worker's log: a task running longer than the task timeout "
                "(Q_CLUSTER timeout) is killed. Then Retry the run.",
            )
            RunAttempt.objects.bulk_create(
                RunAttempt(
                    run_id=run.pk,
                    number=run.attempt_count,
                    started_at=run.lease_expires_at - lease,
                    duration_ms=round((now - run.lease_expires_at + lease).total_seconds() * 1000),
                    outcome=AttemptOutcome.TRANSIENT,
                    response_summary={"error": "worker stopped before finishing"},
                )
                for run in stale
            )
            RunLogEntry.objects.bulk_create(
                RunLogEntry(
                    run_id=run.pk,
                    level=LogLevel.WARNING,
                    message=f"Attempt {run.attempt_count} was abandoned (its worker stopped); "
                    + ("retrying." if run in retry else "given up."),
                )
                for run in stale
            )
        recovered += len(retry)
        timed_out += len(give_up)
        for parent_id in {run.parent_id for run in give_up if run.parent_id}:
            parent_settle(parent_id=parent_id)
    return recovered, timed_out
