"""The demo's runs, once finished, are moved back to when m3ter calculated their bills."""

import datetime

import pytest
from django.utils import timezone

from integrations.tests.factories import IntegrationEventFactory
from m3terdata.tests.factories import BillFactory
from m3tersync.demo_history import demo_runs_backdate
from runs.models import RunStatus, RunTrigger
from runs.tests.factories import IntegrationRunFactory, RunAttemptFactory, RunLogEntryFactory

pytestmark = pytest.mark.django_db

CALCULATED = datetime.datetime(2026, 10, 1, 2, 30, tzinfo=datetime.UTC)


def test_finished_runs_move_back_whole_and_others_stay():
    since = timezone.now()
    bill = BillFactory(last_calculated_at=CALCULATED)
    done = IntegrationRunFactory(bill=bill, complete=True)
    attempt = RunAttemptFactory(run=done)
    entry = RunLogEntryFactory(run=done)
    took = done.dt_completed - done.dt_started
    waiting = IntegrationRunFactory(bill=BillFactory(last_calculated_at=CALCULATED))
    by_hand = IntegrationRunFactory(bill=bill, complete=True, trigger=RunTrigger.SEND_AGAIN)

    assert demo_runs_backdate(since=since, timeout_seconds=0) == 1

    for row in (done, attempt, entry, waiting, by_hand):
        row.refresh_from_db()
    assert done.created_at == CALCULATED + datetime.timedelta(minutes=5)
    assert done.dt_completed - done.dt_started == took  # the same run, only earlier
    assert CALCULATED < attempt.started_at < CALCULATED + datetime.timedelta(minutes=6)
    assert CALCULATED < entry.created_at < CALCULATED + datetime.timedelta(minutes=6)
    assert waiting.status == RunStatus.WAITING and waiting.created_at >= since
    assert by_hand.created_at >= since


def test_the_events_a_failed_run_raised_move_back_with_it():
    since = timezone.now()
    bill = BillFactory(last_calculated_at=CALCULATED)
    failed = IntegrationRunFactory(bill=bill, failed=True)
    event = IntegrationEventFactory(
        run=failed, integration=failed.integration, entity_id=bill.m3ter_id
    )

    demo_runs_backdate(since=since, timeout_seconds=0)

    event.refresh_from_db()
    failed.refresh_from_db()
    assert failed.created_at == CALCULATED + datetime.timedelta(minutes=5)
    assert CALCULATED < event.created_at < CALCULATED + datetime.timedelta(minutes=6)
    assert CALCULATED < event.last_occurred_at < CALCULATED + datetime.timedelta(minutes=6)
