"""Retries on time: what the workers' once-a-second poll puts back on the queue, and what it
holds back while Paddle's circuit is open."""

import datetime

import pytest
from django.utils import timezone

from credentials.models import Destination
from paddle_destination.hosts import destination_host
from paddle_destination.models import CircuitState, PaddleCircuit
from runs.models import IntegrationRun, RunStatus
from runs.services import runs_enqueue_due
from runs.tests.factories import IntegrationRunFactory, bill_with_lines
from runs.tests.helpers import refreshed

pytestmark = pytest.mark.django_db


def awaiting(integration, *, due_in: float):
    return IntegrationRunFactory(
        integration=integration,
        bill=bill_with_lines(),
        status=RunStatus.AWAITING_RETRY,
        retry_count=1,
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=due_in),
        queued_at=timezone.now() - datetime.timedelta(seconds=30),
    )


def open_circuit(*, probe_in: float):
    now = timezone.now()
    return PaddleCircuit.objects.create(
        host=destination_host(Destination.PADDLE_SANDBOX),
        state=CircuitState.OPEN,
        consecutive_failures=10,
        opened_at=now - datetime.timedelta(minutes=5),
        next_probe_at=now + datetime.timedelta(seconds=probe_in),
        last_failure="HTTP 503",
    )


def test_a_due_retry_is_queued_at_once_and_only_once(paddle, integration):
    due, later = awaiting(integration, due_in=-0.5), awaiting(integration, due_in=60)

    assert runs_enqueue_due() == 1
    assert runs_enqueue_due() == 0

    assert refreshed(due).status == RunStatus.COMPLETE  # inline tasks: delivered right there
    assert refreshed(later).status == RunStatus.AWAITING_RETRY


def test_runs_wait_while_paddles_circuit_is_open(paddle, integration):
    runs = [awaiting(integration, due_in=-1) for _ in range(3)]
    open_circuit(probe_in=5)

    assert runs_enqueue_due() == 0
    assert {refreshed(run).status for run in runs} == {RunStatus.AWAITING_RETRY}
    assert paddle.request_count() == 0


def test_one_run_carries_the_probe_and_its_answer_releases_the_others(paddle, integration):
    runs = [awaiting(integration, due_in=-1) for _ in range(3)]
    open_circuit(probe_in=-0.1)

    assert runs_enqueue_due() == 1  # the probe: Paddle answers, the circuit closes
    assert PaddleCircuit.objects.get().state == CircuitState.CLOSED
    assert runs_enqueue_due() == 2

    assert {refreshed(run).status for run in runs} == {RunStatus.COMPLETE}
    assert {refreshed(run).retry_count for run in runs} == {1}


def test_a_run_meeting_an_open_circuit_waits_without_spending_an_attempt(
    paddle, integration, settings
):
    run = awaiting(integration, due_in=-1)
    IntegrationRun.objects.filter(pk=run.pk).update(retry_count=4)
    open_circuit(probe_in=-0.1)
    paddle.push_fault("http_500", status=503, times=None)

    runs_enqueue_due()  # carries the probe, which Paddle fails: still open

    run = refreshed(run)
    assert run.status == RunStatus.AWAITING_RETRY
    assert run.retry_count == 4  # its last attempt, still unspent
    assert run.error.startswith("Paddle is unavailable since")
    assert f"checks every {settings.PADDLE_CIRCUIT_PROBE_SECONDS:g} s" in run.error
    assert paddle.request_count() == 1
