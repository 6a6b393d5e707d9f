"""django-q2 entry points: thin wrappers over runs.services, which queue them by dotted path."""

from runs.services import run_execute, runs_sweep


def run_execute_task(run_id: str) -> None:
    run_execute(run_id=run_id)


def runs_sweep_task() -> str:
    """The periodic sweep (a django-q2 schedule installed by runs/migrations/0003)."""
    return str(runs_sweep())
