"""What a person asks for: Retry, Replay and Send again."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from integrations.services import integration_disable
from m3terdata.models import LineItem
from runs.models import (
    RunStatus,
    RunTrigger,
)
from runs.services import (
    RunRefused,
    bill_send_again,
    run_replay,
    run_retry,
)
from runs.tests.factories import (
    IntegrationRunFactory,
    bill_with_lines,
    connected_integration,
)
from runs.tests.helpers import refreshed, transactions

pytestmark = pytest.mark.django_db


def test_retry_sends_a_failed_run_again_with_fresh_attempts(
    paddle, integration, send, inline, settings
):
    settings.RUN_MAX_ATTEMPTS = 1
    paddle.push_fault("http_500", method="POST", path="/transactions")
    (run,) = send(bill_with_lines())
    assert run.status == RunStatus.ERROR

    with inline():
        retried = run_retry(run=run, user=User.objects.create(username="ana"))

    assert retried.pk == run.pk
    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.attempt_count == 2 and run.retry_count == 0
    assert any(e.message == "Retried by ana." for e in run.log_entries.all())
    assert len(transactions(paddle)) == 1


@pytest.mark.parametrize("status", [RunStatus.COMPLETE, RunStatus.STARTED, RunStatus.WAITING])
def test_retry_is_refused_unless_the_run_failed(integration, status):
    run = IntegrationRunFactory(integration=integration, status=status)
    with pytest.raises(RunRefused, match="Only a run that failed can be retried"):
        run_retry(run=run)


def test_replay_makes_a_new_linked_run_with_the_bills_current_data(
    paddle, integration, send, inline
):
    bill = bill_with_lines("12.50")
    (original,) = send(bill)
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal("20.00"))  # hash not changed

    with inline():
        replay = run_replay(run=original)

    replay = refreshed(replay)
    assert replay.pk != original.pk
    assert (replay.trigger, replay.replayed_from_id) == (RunTrigger.REPLAY, original.pk)
    assert replay.status == RunStatus.COMPLETE
    assert replay.external_id == original.external_id
    (txn,) = transactions(paddle)
    assert txn["details"]["totals"]["subtotal"] == "2000"


def test_replay_is_refused_once_the_integration_is_gone(integration):
    run = IntegrationRunFactory(
        integration=None, integration_name="Old", destination="PADDLE", complete=True
    )
    with pytest.raises(RunRefused, match="'Old' was deleted"):
        run_replay(run=run)


def test_send_again_sends_an_unchanged_bill_but_follows_the_rules(
    paddle, integration, send, inline
):
    bill = bill_with_lines()
    send(bill)
    disabled = connected_integration(name="Off")
    integration_disable(integration=disabled, reason="testing")

    with inline():
        runs = bill_send_again(bill=bill)

    (run,) = runs
    run = refreshed(run)
    assert (run.integration_id, run.trigger) == (integration.pk, RunTrigger.SEND_AGAIN)
    assert run.status == RunStatus.COMPLETE
    assert paddle.request_count("PATCH") == 1
    assert len(transactions(paddle)) == 1
    with pytest.raises(RunRefused, match="Not sent to 'Off': The integration 'Off' is disabled"):
        bill_send_again(bill=bill, integration=disabled)
