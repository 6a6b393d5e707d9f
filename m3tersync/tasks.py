"""django-q2 entry points: thin wrappers over m3tersync.services."""

from django_q.tasks import async_task


def enqueue_pull(*, connection_id, user_id=None) -> None:
    async_task(
        "m3tersync.tasks.pull_connection_task",
        str(connection_id),
        user_id,
        task_name=f"m3ter pull {connection_id}",
    )


def enqueue_inbound_event(*, event_id) -> None:
    async_task(
        "m3tersync.tasks.inbound_event_process_task", event_id, task_name=f"m3ter event {event_id}"
    )


def pull_scheduled_task() -> None:
    from m3tersync.services import pulls_run_scheduled

    pulls_run_scheduled()


def pull_connection_task(connection_id: str, user_id=None) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from m3tersync.models import M3terConnection, PullTrigger
    from m3tersync.services import pull_run

    connection = M3terConnection.objects.get(pk=connection_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    pull_run(
        connection=connection,
        trigger=PullTrigger.MANUAL,
        user=user,
        time_budget=settings.M3TER_PULL_TIME_BUDGET_SECONDS,
    )


def inbound_event_process_task(event_id: int) -> None:
    from m3tersync.services import inbound_event_process

    inbound_event_process(event_id=event_id)
