"""The Integration events page: each event with its follow-up, Mark actioned, the nav count."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from integrations.models import IntegrationEventName, IntegrationEventState
from integrations.tests.factories import IntegrationEventFactory
from runs.tests.factories import IntegrationRunFactory

pytestmark = pytest.mark.django_db

EVENTS = reverse("integrations:events")


def person(client, *codenames):
    user = User.objects.create_user(username="ops")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="integrations", codename__in=codenames)
    )
    client.force_login(user)
    return user


def test_each_event_has_the_follow_up_that_fixes_it(client):
    person(client, "view_integrationevent")
    run = IntegrationRunFactory()
    failed = IntegrationEventFactory(run=run)
    unmapped = IntegrationEventFactory(
        name=IntegrationEventName.MISSING_ACCOUNT_MAPPING, account_m3ter_id="acc-42"
    )
    refused = IntegrationEventFactory(name=IntegrationEventName.AUTHENTICATION)

    response = client.get(EVENTS)

    follow_ups = dict(response.context["rows"])
    assert follow_ups[failed] == ("Go to the run", reverse("runs:detail", args=[run.pk]))
    label, url = follow_ups[unmapped]
    assert label == "Create external mapping"
    assert url.startswith(reverse("admin:m3terdata_externalmapping_add"))
    assert "m3ter_id=acc-42" in url and f"integration={unmapped.integration_id}" in url
    assert follow_ups[refused] == (
        "Go to authentication",
        reverse("integrations:detail", args=[refused.integration_id]) + "#authentication",
    )
    assert "NOT ACTIONED" in response.text and "Mark actioned" not in response.text


def test_marking_an_event_actioned_takes_it_off_the_open_list_and_the_count(client):
    person(client, "view_integrationevent", "change_integrationevent")
    event = IntegrationEventFactory()
    assert client.get(EVENTS).context["open_integration_events"] == 1

    response = client.post(reverse("integrations:event_action", args=[event.pk]), follow=True)

    event.refresh_from_db()
    assert event.state == IntegrationEventState.ACTIONED
    assert "Marked actioned" in response.text
    assert response.context["open_integration_events"] == 0
    assert list(response.context["rows"]) == []
    assert [e for e, _ in client.get(EVENTS, {"show": "all"}).context["rows"]] == [event]


def test_acting_needs_the_change_permission_and_seeing_the_view_permission(client):
    person(client)
    assert client.get(EVENTS).status_code == 403
    event = IntegrationEventFactory()
    client.logout()
    person_with_view = User.objects.create_user(username="viewer")
    person_with_view.user_permissions.set(
        Permission.objects.filter(codename="view_integrationevent")
    )
    client.force_login(person_with_view)
    response = client.post(reverse("integrations:event_action", args=[event.pk]))
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.state == IntegrationEventState.NOT_ACTIONED


def test_an_event_names_its_integration_as_it_is_called_now_or_as_it_was_once_deleted(client):
    person(client, "view_integrationevent")
    renamed = IntegrationEventFactory(integration_name="Old name")
    renamed.integration.name = "New name"
    renamed.integration.save()
    IntegrationEventFactory(integration=None, integration_name="Deleted one")

    page = client.get(EVENTS).text

    assert "New name" in page and "Old name" not in page
    assert "Deleted one" in page
