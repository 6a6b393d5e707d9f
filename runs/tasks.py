"""django-q2 entry points: thin wrappers over runs.services."""

import logging
import time

from django_q.tasks import async_task

from ops.logs import run_context
from ops.metrics import DELIVERY_DURATION

logger = logging.getLogger(__name__)


def enqueue_run_execution(*, run_id) -> None:
    async_task("runs.tasks.run_execute_task", str(run_id), task_name=f"run {run_id}")


def run_execute_task(run_id: str) -> None:
    from runs.services import run_execute

    started = time.monotonic()
    with run_context(run_id):
        run = run_execute(run_id=run_id)
        if run is not None:
            took = time.monotonic() - started
            DELIVERY_DURATION.labels(run.status).observe(took)
            logger.info("Run attempt %s ended %s in %.2f s.", run.attempt_count, run.status, took)


def runs_sweep_task() -> str:
    """The periodic sweep (a django-q2 schedule installed by runs/migrations/0003)."""
    from ops.models import HeartbeatKind
    from ops.services import heartbeat_beat
    from runs.services import runs_sweep

    result = runs_sweep()
    heartbeat_beat(kind=HeartbeatKind.SWEEP)
    return str(result)
