"""django-q2 entry points: thin wrappers over the services, which enqueue them by dotted path (so
this module imports the services and never the reverse)."""

from credentials.models import IntegrationCredential
from paddle_destination.notifications import notifications_remove, notifications_set_up
from paddle_destination.reconcile import credentials_reconcile_due
from paddle_destination.webhooks import paddle_event_process


def notifications_set_up_task(credential_id: str) -> None:
    credential = IntegrationCredential.objects.filter(pk=credential_id).first()
    if credential is not None:  # else deleted since it was queued
        notifications_set_up(credential=credential)


def notifications_ensure_task(credential_id: str) -> None:
    """Set webhooks up for a credential that has none or an outdated one (attaching it again
    changes nothing)."""
    credential = IntegrationCredential.objects.filter(pk=credential_id).first()
    if credential is not None:
        notifications_set_up(credential=credential, only_if_outdated=True)


def notifications_remove_task(credential_id: str) -> None:
    credential = IntegrationCredential.objects.filter(pk=credential_id).first()
    if credential is not None and not credential.integrations.exists():
        notifications_remove(credential=credential)


def paddle_event_process_task(event_pk: int) -> None:
    paddle_event_process(event_pk=event_pk)


def reconcile_due_task() -> None:
    credentials_reconcile_due()
