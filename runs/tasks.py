"""django-q2 entry points: thin wrappers over runs.services."""

from django_q.tasks import async_task


def enqueue_run_execution(*, run_id) -> None:
    async_task("runs.tasks.run_execute_task", str(run_id), task_name=f"run {run_id}")


def run_execute_task(run_id: str) -> None:
    from runs.services import run_execute

    run_execute(run_id=run_id)


def runs_sweep_task() -> str:
    """The periodic sweep (a django-q2 schedule installed by runs/migrations/0003)."""
    from runs.services import runs_sweep

    return str(runs_sweep())
