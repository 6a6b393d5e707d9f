"""A run that ends failed raises m3ter's integration event for it, once per failing bill."""

import pytest

from integrations.models import IntegrationEvent, IntegrationEventName
from runs.models import RunStatus
from runs.services import run_retry
from runs.tests.factories import bill_with_lines
from runs.tests.helpers import refreshed, sweep_when_due

pytestmark = pytest.mark.django_db


def test_a_refused_bill_raises_one_validation_event_however_often_it_is_retried(
    paddle, integration, send, inline
):
    bill = bill_with_lines("10.00")
    bill.account.email = "not-an-email"
    bill.account.save()

    (run,) = send(bill)
    with inline():
        run_retry(run=refreshed(run))

    event = IntegrationEvent.objects.get()
    assert event.name == IntegrationEventName.VALIDATION
    assert (event.run_id, event.entity_id, event.occurrences) == (run.pk, bill.m3ter_id, 2)
    assert event.message == refreshed(run).error


def test_a_missing_account_mapping_raises_its_event_naming_the_account(paddle, integration, send):
    integration.use_external_mapping_account_code = True
    integration.save()
    bill = bill_with_lines("10.00")

    send(bill)

    event = IntegrationEvent.objects.get()
    assert event.name == IntegrationEventName.MISSING_ACCOUNT_MAPPING
    assert event.account_m3ter_id == bill.account.m3ter_id


def test_refused_keys_raise_authentication_events_then_one_disabled_event(
    paddle, integration, send, api_key, settings
):
    settings.RUN_AUTH_FAILURES_BEFORE_DISABLE = 2
    paddle.configure(revoked_keys=[api_key])

    for _ in range(3):
        send(bill_with_lines())

    names = sorted(IntegrationEvent.objects.values_list("name", flat=True))
    assert names == sorted(
        [IntegrationEventName.AUTHENTICATION] * 2 + [IntegrationEventName.DISABLED]
    )
    disabled = IntegrationEvent.objects.get(name=IntegrationEventName.DISABLED)
    assert "refused its credential 2 times" in disabled.message


def test_a_transient_failure_raises_no_event_until_the_retries_are_used_up(
    paddle, integration, send, settings
):
    settings.RUN_MAX_ATTEMPTS = 2
    paddle.push_fault("http_500", method="POST", path="/transactions", times=None)

    (run,) = send(bill_with_lines())
    assert run.status == RunStatus.AWAITING_RETRY
    assert not IntegrationEvent.objects.exists()

    sweep_when_due()

    assert refreshed(run).status == RunStatus.ERROR
    assert IntegrationEvent.objects.get().name == IntegrationEventName.PERFORM
