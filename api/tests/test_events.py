"""m3ter's /events: the integration events, read, filtered and actioned."""

import pytest

from api.tests.conftest import assert_error, org_url
from integrations.models import IntegrationEventName
from integrations.tests.factories import IntegrationEventFactory

pytestmark = pytest.mark.django_db


def test_an_event_in_m3ters_shape(api):
    event = IntegrationEventFactory(entity_id="bill-7", account_m3ter_id="acc-1")

    body = api.get(org_url(f"events/{event.pk}")).json()

    assert body["id"] == str(event.pk)
    assert body["eventName"] == "integration.validation.error"
    assert body["dtActioned"] is None and body["eventTime"]
    data = body["m3terEvent"]["eventData"]
    assert (data["entityId"], data["accountId"], data["message"]) == (
        "bill-7",
        "acc-1",
        event.message,
    )
    assert body["m3terEvent"]["eventType"] == "IntegrationEvent"


def test_the_list_shows_open_events_unless_actioned_ones_are_asked_for(api):
    open_event = IntegrationEventFactory()
    done = IntegrationEventFactory(name=IntegrationEventName.PERFORM)
    assert api.post(org_url(f"events/{done.pk}/action")).json()["dtActioned"]

    def listed(**params):
        response = api.get(org_url("events"), params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["data"]}

    assert listed() == {str(open_event.pk)}
    assert listed(includeActioned="true") == {str(open_event.pk), str(done.pk)}
    assert listed(includeActioned="true", eventName="integration.perform.error") == {str(done.pk)}
    assert listed(resourceId=open_event.entity_id) == {str(open_event.pk)}
    assert listed(eventType="Notification") == set()


def test_actioning_twice_or_an_unknown_name_is_a_clear_4xx(api):
    event = IntegrationEventFactory()
    api.post(org_url(f"events/{event.pk}/action"))

    assert_error(api.post(org_url(f"events/{event.pk}/action")), 409, contains="actioned already")
    assert_error(api.get(org_url("events"), {"eventName": "nope"}), 400, field="eventName")
    assert_error(api.get(org_url("events/not-a-uuid")), 404)


def test_event_types_are_m3ters_integration_events(api):
    assert api.get(org_url("events/types")).json()["events"] == list(IntegrationEventName.values)
