"""The credential's notification setting in Paddle: made with the credential, pointed at the hub,
its secret encrypted and never shown, removed with the credential or when no integration uses it."""

import datetime

import pytest
from django.utils import timezone

from credentials.crypto import decrypt_secret
from credentials.services import credential_create, credential_delete
from integrations.services import integration_attach_credential, integration_detach_credential
from integrations.tests.factories import IntegrationConfigurationFactory
from paddle_destination.models import PaddleStatusSync
from paddle_destination.notifications import notifications_set_up, status_sync_lines

pytestmark = pytest.mark.django_db


def settings_in(paddle):
    return paddle.notifications.list(None)


def test_a_new_credential_gets_its_notification_setting_and_loses_it_on_deletion(
    paddle, hub_url, api_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        credential = credential_create(
            name="Sandbox", destination="PADDLE_SANDBOX", api_key=api_key
        )

    (setting,) = settings_in(paddle)
    sync = PaddleStatusSync.objects.get(credential=credential)
    assert setting["destination"] == f"http://testserver/paddle/webhooks/{credential.pk}/"
    assert (setting["type"], setting["api_version"]) == ("url", 1)
    assert {e["name"] for e in setting["subscribed_events"]} == {
        "transaction.billed",
        "transaction.updated",
        "transaction.paid",
        "transaction.completed",
        "transaction.past_due",
        "transaction.canceled",
        "transaction.revised",
    }
    assert sync.notification_setting_id == setting["id"]
    assert setting["endpoint_secret_key"] not in sync.endpoint_secret_key_encrypted
    assert decrypt_secret(sync.endpoint_secret_key_encrypted) == setting["endpoint_secret_key"]

    credential_delete(credential=credential)

    assert settings_in(paddle) == []
    assert not PaddleStatusSync.objects.exists()


def test_without_a_public_url_nothing_is_made_and_nothing_is_asked(paddle, credential, settings):
    settings.HUB_PUBLIC_URL = ""

    sync = notifications_set_up(credential=credential)

    assert (sync.webhooks_set_up, sync.webhook_error) == (False, "")
    assert paddle.stats()["total"] == 0


def test_setting_up_again_replaces_the_setting(paddle, hub_url, credential):
    first = notifications_set_up(credential=credential).notification_setting_id

    second = notifications_set_up(credential=credential).notification_setting_id

    assert first != second
    assert [s["id"] for s in settings_in(paddle)] == [second]


def test_a_refused_set_up_is_recorded_in_words(paddle, hub_url, credential):
    paddle.configure(revoked_keys=[credential.api_key()])

    sync = notifications_set_up(credential=credential)

    assert not sync.webhooks_set_up
    assert sync.webhook_error.startswith("Webhooks could not be set up:")
    assert settings_in(paddle) == []


def test_attaching_sets_up_and_detaching_the_last_integration_removes(
    paddle, hub_url, credential, django_capture_on_commit_callbacks
):
    integration = IntegrationConfigurationFactory(destination=credential.destination)

    with django_capture_on_commit_callbacks(execute=True):
        integration_attach_credential(integration=integration, credential=credential)
    set_up = len(settings_in(paddle))
    with django_capture_on_commit_callbacks(execute=True):
        integration_detach_credential(integration=integration)

    assert set_up == 1
    assert settings_in(paddle) == []
    assert not PaddleStatusSync.objects.get(credential=credential).webhooks_set_up


def test_a_set_up_while_another_is_under_way_leaves_it_to_it(paddle, hub_url, credential):
    """A new credential attached at once queues two set-ups, which two workers may run together:
    the second must not make a second setting, whose secret the hub would not keep."""
    under_way = timezone.now() + datetime.timedelta(minutes=1)
    PaddleStatusSync.objects.create(credential=credential, setting_up_until=under_way)

    again = notifications_set_up(credential=credential)
    ensured = notifications_set_up(credential=credential, only_if_outdated=True)

    assert paddle.stats()["total"] == 0
    assert not again.webhooks_set_up and not ensured.webhooks_set_up
    assert status_sync_lines(again)[0].startswith("Webhooks are being set up right now")


def test_a_set_up_left_by_a_dead_worker_is_taken_over(paddle, hub_url, credential):
    lapsed = timezone.now() - datetime.timedelta(seconds=1)
    PaddleStatusSync.objects.create(credential=credential, setting_up_until=lapsed)

    sync = notifications_set_up(credential=credential)

    assert sync.webhooks_set_up
    assert [s["id"] for s in settings_in(paddle)] == [sync.notification_setting_id]
    assert PaddleStatusSync.objects.get().setting_up_until is None  # let go when done


def test_making_sure_of_a_credential_with_webhooks_asks_paddle_nothing(paddle, hub_url, credential):
    first = notifications_set_up(credential=credential)
    asked = paddle.stats()["total"]

    ensured = notifications_set_up(credential=credential, only_if_outdated=True)

    assert ensured.notification_setting_id == first.notification_setting_id
    assert paddle.stats()["total"] == asked
