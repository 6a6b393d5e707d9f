"""django-q2 entry points: thin wrappers over m3tersync.services, which enqueue them by dotted
path (so this module imports the services and never the reverse)."""

from django.conf import settings
from django.contrib.auth import get_user_model

from m3tersync.models import M3terConnection
from m3tersync.services import inbound_event_process, pull_run, pulls_enqueue_due


def pulls_due_task() -> None:
    pulls_enqueue_due()


def pull_connection_task(connection_id: str, trigger: str, user_id=None) -> None:
    connection = M3terConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return  # deleted since it was queued
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    pull_run(
        connection=connection,
        trigger=trigger,
        user=user,
        time_budget=settings.M3TER_PULL_TIME_BUDGET_SECONDS,
    )


def inbound_event_process_task(event_id: int) -> None:
    inbound_event_process(event_id=event_id)
