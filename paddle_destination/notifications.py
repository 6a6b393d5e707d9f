"""Paddle's notification setting for a credential: made by the hub, pointed at its webhook URL.

Each credential is one Paddle account (and environment), so it gets one notification setting
(`type: url`, `api_version: 1`, the transaction events below) whose `endpoint_secret_key` is
stored encrypted like API keys and never shown. Without HUB_PUBLIC_URL Paddle cannot reach the
hub: nothing is made, and the reconciliation (reconcile.py) keeps statuses right by polling.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from paddle_billing.Entities.Events import EventTypeName
from paddle_billing.Entities.NotificationSettings import NotificationSettingType
from paddle_billing.Resources.NotificationSettings.Operations import CreateNotificationSetting

from credentials.crypto import decrypt_secret, encrypt_secret
from credentials.models import IntegrationCredential
from paddle_destination.client import PADDLE_API_VERSION, paddle_client
from paddle_destination.errors import PaddleProblem, PaddleProblemKind, paddle_errors
from paddle_destination.models import PaddleStatusSync

logger = logging.getLogger(__name__)

SUBSCRIBED_EVENTS = [
    EventTypeName.TransactionBilled,
    EventTypeName.TransactionUpdated,
    EventTypeName.TransactionPaid,
    EventTypeName.TransactionCompleted,
    EventTypeName.TransactionPastDue,
    EventTypeName.TransactionCanceled,
    EventTypeName.TransactionRevised,
]
# How long one set-up may take (two requests, maybe waiting for the rate limit) before another
# may start all the same (a worker may have died in the middle).
_SET_UP_CLAIM = datetime.timedelta(minutes=2)
NO_PUBLIC_URL = (
    "HUB_PUBLIC_URL is not set, so Paddle cannot reach the hub: invoice statuses are brought in "
    "by polling Paddle only, every {minutes} minutes. Set HUB_PUBLIC_URL to the hub's public "
    "address, then set webhooks up again."
)


def status_sync_lines(sync: PaddleStatusSync | None) -> list[str]:
    """What the credential's page says about its status sync: webhooks, the last one, polling.
    Never the secret."""
    when = lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC"  # noqa: E731
    minutes = settings.PADDLE_RECONCILE_INTERVAL_MINUTES
    if sync is not None and sync.setting_up_until and sync.setting_up_until > timezone.now():
        webhooks = "Webhooks are being set up right now; reload the page in a moment."
    elif sync is not None and sync.webhooks_set_up:
        webhooks = (
            f"Webhooks are set up: Paddle sends invoice events to {sync.webhook_url} "
            f"(since {when(sync.webhooks_set_up_at)})."
        )
    elif sync is not None and sync.webhook_error:
        webhooks = sync.webhook_error
    elif not settings.HUB_PUBLIC_URL:
        webhooks = NO_PUBLIC_URL.format(minutes=minutes)
    else:
        webhooks = "Webhooks are not set up yet."
    last = sync.last_webhook_at if sync is not None else None
    received = f"Last webhook received {when(last)}." if last else "No webhook received yet."
    if sync is None or sync.last_reconciled_at is None:
        polled = f"Paddle is polled every {minutes} minutes as a fallback; not run yet."
    elif sync.last_reconcile_error:
        polled = (
            f"The last poll of Paddle ({when(sync.last_reconciled_at)}) failed: "
            f"{sync.last_reconcile_error}"
        )
    else:
        polled = (
            f"Paddle last polled {when(sync.last_reconciled_at)} "
            f"({sync.last_reconcile_changed} invoice status(es) changed); every {minutes} minutes."
        )
    return [webhooks, received, polled]


def status_sync_for(*, credential: IntegrationCredential) -> PaddleStatusSync:
    sync, _ = PaddleStatusSync.objects.get_or_create(credential=credential)
    return sync


def webhook_url_for(*, credential: IntegrationCredential) -> str:
    path = reverse("paddle_destination:webhook", args=[credential.pk])
    return settings.HUB_PUBLIC_URL.rstrip("/") + path


def status_sync_secret(sync: PaddleStatusSync) -> str:
    """The clear endpoint secret, for verifying signatures only. Raises SecretDecryptionError."""
    return decrypt_secret(sync.endpoint_secret_key_encrypted)


def notifications_set_up(
    *, credential: IntegrationCredential, only_if_outdated: bool = False
) -> PaddleStatusSync:
    """Make (or make again) the credential's notification setting in Paddle; with
    `only_if_outdated`, only for a credential that has none or whose setting points at another
    address than the hub's (HUB_PUBLIC_URL changed since). A failure is recorded on the status
    sync, in words, rather than raised: the reconciliation still works.

    One set-up at a time per credential: a new credential attached to an integration at once
    queues two (one for each), and both making a setting would leave one Paddle keeps sending
    with a secret the hub no longer has. A set-up that finds another under way leaves it to it."""
    sync = status_sync_for(credential=credential)
    if not settings.HUB_PUBLIC_URL:
        sync.webhook_error = ""
        sync.save(update_fields=["webhook_error", "updated_at"])
        return sync
    if not _set_up_claim(sync):
        sync.refresh_from_db()
        return sync
    try:
        sync.refresh_from_db()
        current = sync.notification_setting_id and sync.webhook_url == webhook_url_for(
            credential=credential
        )
        if not (only_if_outdated and current):
            _set_up(sync, credential)
        return sync
    finally:
        PaddleStatusSync.objects.filter(pk=sync.pk).update(setting_up_until=None)
        sync.setting_up_until = None


def _set_up_claim(sync: PaddleStatusSync) -> bool:
    now = timezone.now()
    free = Q(setting_up_until__isnull=True) | Q(setting_up_until__lt=now)
    claimed = PaddleStatusSync.objects.filter(free, pk=sync.pk)
    return bool(claimed.update(setting_up_until=now + _SET_UP_CLAIM))


def _set_up(sync: PaddleStatusSync, credential: IntegrationCredential) -> None:
    try:
        client = paddle_client(credential=credential)
        if sync.notification_setting_id:
            _setting_delete(client, sync.notification_setting_id)
            _forget(sync)
        url = webhook_url_for(credential=credential)
        with paddle_errors("creating the notification setting for the hub's webhooks"):
            setting = client.notification_settings.create(
                CreateNotificationSetting(
                    description=f"m3terpaddle: invoice statuses for {credential.name}"[:500],
                    destination=url,
                    subscribed_events=SUBSCRIBED_EVENTS,
                    type=NotificationSettingType.Url,
                    include_sensitive_fields=False,
                    api_version=PADDLE_API_VERSION,
                )
            )
    except PaddleProblem as problem:
        sync.webhook_error = f"Webhooks could not be set up: {problem.text}"
        sync.save(update_fields=["webhook_error", "updated_at"])
        logger.warning("Paddle webhooks for credential %s not set up: %s", credential.pk, problem)
        return
    sync.notification_setting_id = setting.id
    sync.endpoint_secret_key_encrypted = encrypt_secret(setting.endpoint_secret_key)
    sync.webhook_url = url
    sync.webhooks_set_up_at = timezone.now()
    sync.webhook_error = ""
    sync.save()


def notifications_remove(*, credential: IntegrationCredential) -> None:
    """Delete the credential's notification setting in Paddle (nothing to do if none). Raises
    PaddleProblem when Paddle could not be told; the setting then stays recorded."""
    sync = PaddleStatusSync.objects.filter(credential=credential).first()
    if sync is None or not sync.notification_setting_id:
        return
    _setting_delete(paddle_client(credential=credential), sync.notification_setting_id)
    _forget(sync)
    sync.save()


def _setting_delete(client, setting_id: str) -> None:
    try:
        with paddle_errors(f"deleting notification setting {setting_id}"):
            client.notification_settings.delete(setting_id)
    except PaddleProblem as problem:
        if problem.kind != PaddleProblemKind.NOT_FOUND:  # already gone: what we wanted
            raise


def _forget(sync: PaddleStatusSync) -> None:
    sync.notification_setting_id = ""
    sync.endpoint_secret_key_encrypted = ""
    sync.webhook_url = ""
    sync.webhooks_set_up_at = None
