"""The django-q2 entry points and the sweep's schedule."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from integrations.services import integration_disable
from paddle_destination.tests import fixtures
from runs.models import IntegrationRun, RunStatus
from runs.services.create import run_execution_enqueue
from runs.tasks import run_execute_task, runs_sweep_task
from runs.tests.factories import IntegrationRunFactory, bill_with_lines, connected_integration

pytestmark = pytest.mark.django_db

paddle = fixtures.paddle


def test_a_queued_run_is_executed_by_the_worker_task(paddle):
    run = IntegrationRunFactory(integration=connected_integration(), bill=bill_with_lines())

    run_execution_enqueue(run_id=run.pk)  # Q_CLUSTER_SYNC: the task runs right here

    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETE
    assert len(paddle.dump()["transactions"]) == 1


def test_the_task_for_a_finished_run_does_nothing(paddle):
    run = IntegrationRunFactory(complete=True)
    run_execute_task(str(run.pk))
    assert IntegrationRun.objects.get(pk=run.pk).attempts.count() == 0
    assert paddle.stats()["total"] == 0


def test_the_sweep_task_sweeps_and_says_what_it_did():
    integration = connected_integration()
    integration_disable(integration=integration, reason="maintenance")
    run = IntegrationRunFactory(
        integration=integration,
        status=RunStatus.STARTED,
        attempt_count=1,
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    summary = runs_sweep_task()

    assert "recovered=1" in summary and "enqueued=1" in summary
    run.refresh_from_db()
    assert run.status == RunStatus.DISABLED  # taken back, then executed: the integration is off


def test_every_qcluster_runs_the_sweep_each_minute():
    schedule = Schedule.objects.get(func="runs.tasks.runs_sweep_task")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        1,
        -1,
    )


def test_django_q_never_runs_a_task_twice_by_itself():
    # The engine owns retries; a broker re-delivery is harmless (the run claim), a retry by
    # django-q2 would not be.
    assert settings.Q_CLUSTER["max_attempts"] == 1
    assert settings.Q_CLUSTER["timeout"] < settings.RUN_LEASE_SECONDS


def test_the_sweep_can_be_run_by_hand():
    IntegrationRunFactory(
        integration=connected_integration(),
        status=RunStatus.STARTED,
        attempt_count=1,
        retry_count=settings.RUN_MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    out = io.StringIO()

    call_command("runs_sweep", stdout=out)

    assert out.getvalue().strip() == (
        "1 runs taken back from dead workers (1 of them given up), 0 queued, 0 backfills finished."
    )
