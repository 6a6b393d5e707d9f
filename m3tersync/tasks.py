"""django-q2 entry points: thin wrappers over m3tersync.services."""

from django_q.tasks import async_task


def enqueue_pull(*, connection_id, trigger: str, user_id=None) -> None:
    async_task(
        "m3tersync.tasks.pull_connection_task",
        str(connection_id),
        str(trigger),
        user_id,
        task_name=f"m3ter pull {connection_id}",
    )


def enqueue_inbound_event(*, event_id) -> None:
    async_task(
        "m3tersync.tasks.inbound_event_process_task", event_id, task_name=f"m3ter event {event_id}"
    )


def pulls_due_task() -> None:
    from m3tersync.services import pulls_enqueue_due

    pulls_enqueue_due()


def pull_connection_task(connection_id: str, trigger: str, user_id=None) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from m3tersync.models import M3terConnection
    from m3tersync.services import pull_run

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
    from m3tersync.services import inbound_event_process

    inbound_event_process(event_id=event_id)
