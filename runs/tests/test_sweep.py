"""The sweep: runs whose worker died are taken back and reconcile; due retries are queued once."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import (
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    RunStatus,
)
from runs.services import (
    execute,
    run_execute,
    runs_sweep,
)
from runs.tests.factories import (
    IntegrationRunFactory,
    bill_with_lines,
)
from runs.tests.helpers import refreshed, transactions

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for the process dying: nothing in the engine catches it."""


def test_a_killed_worker_is_taken_back_by_the_sweep_and_reconciles(
    paddle, integration, monkeypatch
):
    run = IntegrationRunFactory(integration=integration, bill=bill_with_lines())

    def die(**kwargs):
        raise WorkerKilled

    # Paddle created the transaction; the worker dies before storing its id.
    with monkeypatch.context() as patch:
        patch.setattr(execute, "_delivery_store_transaction", die)
        with pytest.raises(WorkerKilled):
            run_execute(run_id=run.pk)

    (made,) = transactions(paddle)
    assert refreshed(run).status == RunStatus.STARTED
    assert Delivery.objects.get().external_id == ""
    assert runs_sweep().recovered == 0  # its lease has not lapsed yet

    IntegrationRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    result = runs_sweep()

    assert (result.recovered, result.enqueued) == (1, 1)
    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.external_id == made["id"]
    assert len(transactions(paddle)) == 1
    assert [a.outcome for a in run.attempts.all()] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SUCCESS,
    ]
    assert any("abandoned" in entry.message for entry in run.log_entries.all())


def test_a_run_abandoned_too_often_ends_timeout_limit_exceeded(integration, settings):
    settings.RUN_MAX_ATTEMPTS = 2
    run = IntegrationRunFactory(
        integration=integration,
        status=RunStatus.STARTED,
        attempt_count=2,
        retry_count=1,
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    assert runs_sweep().timed_out == 1

    run = refreshed(run)
    assert run.status == RunStatus.TIMEOUT_LIMIT_EXCEEDED
    assert "Q_CLUSTER timeout" in run.error_hint
    assert run.attempts.get().number == 2


def test_the_sweep_queues_each_due_retry_once_and_lost_runs_again(integration, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "runs.services.create.run_execution_enqueue", lambda *, run_id: queued.append(run_id)
    )
    now = timezone.now()
    due = IntegrationRunFactory(
        integration=integration,
        status=RunStatus.AWAITING_RETRY,
        next_attempt_at=now - datetime.timedelta(seconds=5),
        queued_at=now - datetime.timedelta(minutes=5),
    )
    IntegrationRunFactory(
        integration=integration,
        status=RunStatus.RATE_LIMIT_RETRY,
        next_attempt_at=now + datetime.timedelta(seconds=30),
    )
    lost = IntegrationRunFactory(
        integration=integration, queued_at=now - datetime.timedelta(hours=1)
    )
    IntegrationRunFactory(integration=integration, queued_at=now)  # waiting in the queue

    assert runs_sweep().enqueued == 2
    assert set(queued) == {due.pk, lost.pk}
    assert runs_sweep().enqueued == 0


def test_the_sweep_costs_constant_queries_for_many_runs(integration, monkeypatch):
    monkeypatch.setattr("runs.services.create.run_execution_enqueue", lambda *, run_id: None)
    past = timezone.now() - datetime.timedelta(minutes=10)

    def queries_for(count):
        for _ in range(count):
            IntegrationRunFactory(
                integration=integration,
                status=RunStatus.STARTED,
                attempt_count=1,
                lease_expires_at=past,
            )
        with CaptureQueriesContext(connection) as captured:
            assert runs_sweep().recovered == count
        return len(captured)

    assert queries_for(2) == queries_for(30)
