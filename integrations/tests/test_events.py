"""Integration events: one open event per integration, event and bill; a person actions it."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from integrations.events import integration_event_action, integration_event_raise
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
