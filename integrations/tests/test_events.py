"""Integration events: one open event per integration, event and bill; a person actions it."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from integrations.events import (
    integration_event_action,
    integration_event_raise,
    integration_events_action_by_hub,
)
from integrations.models import IntegrationEvent, IntegrationEventName, IntegrationEventState
from integrations.tests.factories import IntegrationConfigurationFactory

pytestmark = pytest.mark.django_db


def _raise(integration, name=IntegrationEventName.VALIDATION, entity_id="bill-1", message="No."):
    return integration_event_raise(
        name=name,
        integration_id=integration.pk,
        integration_name=integration.name,
        message=message,
        entity_id=entity_id,
    )


def test_a_bill_failing_again_grows_its_open_event_instead_of_making_another():
    integration = IntegrationConfigurationFactory()
    first = _raise(integration, message="First refusal.")

    again = _raise(integration, message="Second refusal.")

    assert again.pk == first.pk
    assert (again.occurrences, again.message) == (2, "Second refusal.")
    assert IntegrationEvent.objects.count() == 1


def test_another_bill_or_another_event_name_is_its_own_event():
    integration = IntegrationConfigurationFactory()
    _raise(integration)
    _raise(integration, entity_id="bill-2")
    _raise(integration, name=IntegrationEventName.PERFORM)

    assert IntegrationEvent.objects.count() == 3


def test_once_actioned_the_next_failure_opens_a_new_event():
    integration = IntegrationConfigurationFactory()
    user = User.objects.create(username="ops")
    first = integration_event_action(event=_raise(integration), user=user)

    assert first.state == IntegrationEventState.ACTIONED
    assert first.dt_actioned is not None and first.actioned_by == user

    second = _raise(integration)
    assert second.pk != first.pk and second.state == IntegrationEventState.NOT_ACTIONED


def test_an_actioned_event_cannot_be_actioned_again():
    event = integration_event_action(event=_raise(IntegrationConfigurationFactory()))

    with pytest.raises(ValidationError, match="actioned already"):
        integration_event_action(event=event)


def test_a_completed_run_actions_its_bills_open_events_as_the_hub():
    integration = IntegrationConfigurationFactory()
    refused = _raise(integration)
    failed = _raise(integration, name=IntegrationEventName.PERFORM)
    other_bill = _raise(integration, entity_id="bill-2")
    other_integration = _raise(IntegrationConfigurationFactory())
    key = _raise(integration, name=IntegrationEventName.AUTHENTICATION, entity_id="bill-3")

    actioned = integration_events_action_by_hub(
        integration_id=integration.pk, entity_id="bill-1", key_accepted=False
    )

    states = {e.pk: (e.state, e.actioned_by_id) for e in IntegrationEvent.objects.all()}
    assert actioned == 2
    assert states[refused.pk] == states[failed.pk] == (IntegrationEventState.ACTIONED, None)
    assert {states[e.pk][0] for e in (other_bill, other_integration, key)} == {
        IntegrationEventState.NOT_ACTIONED
    }


def test_a_delivery_actions_the_integrations_key_and_disabled_events_of_any_bill():
    integration = IntegrationConfigurationFactory()
    keys = [
        _raise(integration, name=IntegrationEventName.AUTHENTICATION, entity_id=f"bill-{n}")
        for n in (1, 2)
    ]
    disabled = _raise(integration, name=IntegrationEventName.DISABLED, entity_id="")
    other_bill = _raise(integration, entity_id="bill-2")

    actioned = integration_events_action_by_hub(
        integration_id=integration.pk, entity_id="bill-9", key_accepted=True
    )

    assert actioned == 3
    assert {
        e.pk for e in IntegrationEvent.objects.filter(state=IntegrationEventState.ACTIONED)
    } == {keys[0].pk, keys[1].pk, disabled.pk}
    assert (
        IntegrationEvent.objects.get(pk=other_bill.pk).state == IntegrationEventState.NOT_ACTIONED
    )


def test_an_event_a_person_actioned_keeps_who_and_when():
    integration = IntegrationConfigurationFactory()
    user = User.objects.create(username="ops")
    done = integration_event_action(event=_raise(integration), user=user)

    actioned = integration_events_action_by_hub(
        integration_id=integration.pk, entity_id="bill-1", key_accepted=True
    )

    after = IntegrationEvent.objects.get(pk=done.pk)
    assert actioned == 0
    assert (after.actioned_by, after.dt_actioned) == (user, done.dt_actioned)
