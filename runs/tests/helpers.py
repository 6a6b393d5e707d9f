"""Helpers of the run engine's tests."""

import datetime

from django.utils import timezone

from runs.models import IntegrationRun
from runs.services import runs_sweep


def sweep_when_due():
    """Let time pass until every waiting retry is due, then sweep (which executes them)."""
    now = timezone.now()
    IntegrationRun.objects.filter(next_attempt_at__isnull=False).update(
        queued_at=now - datetime.timedelta(minutes=2),
        next_attempt_at=now - datetime.timedelta(minutes=1),
    )
    return runs_sweep()


def transactions(paddle):
    return paddle.dump()["transactions"]


def refreshed(run):
    return IntegrationRun.objects.get(pk=run.pk)
