"""Retries on time: runs whose retry or rate-limit wait has come due go back on the task queue
within a second or so of their time, not at the next sweep.

Every qcluster worker process polls `runs_enqueue_due` about once a second (ops.worker); the
sweep calls it too, as the safety net, and also re-queues runs whose task was lost. A poll that
finds nothing due costs one indexed read. Claiming what is due is one short transaction (rows
locked with SKIP LOCKED on PostgreSQL, the write lock on SQLite), so two pollers never queue the
same retry twice.

Runs for a Paddle host whose circuit is open stay where they are (they would only be refused
again), except one run per probe interval, which carries the probe.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.brokers import get_broker

from paddle_destination.circuit import destinations_waiting
from runs.models import RETRYABLE_STATUSES, IntegrationRun, RunStatus
from runs.services.create import runs_enqueue
from runs.services.state import BACKFILL_PARENT, BATCH

_MAX_BATCHES = 20


def _due(*, now, include_lost: bool) -> Q:
    due = Q(status__in=RETRYABLE_STATUSES, next_attempt_at__lte=now) & (
        Q(queued_at__isnull=True) | Q(queued_at__lt=F("next_attempt_at"))
    )
    # Runs still WAITING long after they were queued lost their task (say, a crash between
    # commit and enqueue); queued again only when the task queue is empty, so nothing is
    # doubled for a queue that is merely long.
    if include_lost and get_broker().queue_size() == 0:
        lost_before = now - datetime.timedelta(seconds=settings.RUN_LEASE_SECONDS)
        due |= Q(status=RunStatus.WAITING) & (
            Q(queued_at__isnull=True) | Q(queued_at__lt=lost_before)
        )
    return due


def _claim(runs, *, now, limit: int) -> list:
    with transaction.atomic():
        ids = list(
            runs.select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        IntegrationRun.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def runs_enqueue_due(*, now: datetime.datetime | None = None, include_lost: bool = False) -> int:
    """Queue each run whose retry time has come, once per retry (queued_at records it); with
    `include_lost`, also runs that lost their task. Returns how many were queued."""
    now = now or timezone.now()
    runs = IntegrationRun.objects.filter(_due(now=now, include_lost=include_lost)).exclude(
        BACKFILL_PARENT
    )
    held, probing = destinations_waiting(now=now)
    enqueued = 0
    for destination in probing:
        ids = _claim(runs.filter(destination=destination), now=now, limit=1)
        runs_enqueue(run_ids=ids)
        enqueued += len(ids)
    runs = runs.exclude(destination__in=held + probing)
    for _ in range(_MAX_BATCHES):
        if not runs.exists():
            break
        ids = _claim(runs, now=now, limit=BATCH)
        if not ids:  # what is due is being claimed by another worker's poll right now
            break
        runs_enqueue(run_ids=ids)
        enqueued += len(ids)
    return enqueued
