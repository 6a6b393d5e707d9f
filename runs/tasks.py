"""django-q2 entry points: thin wrappers over runs.services, which queue them by dotted path."""

import logging
import time

from ops.logs import run_context
from ops.metrics import DELIVERY_DURATION
from ops.models import HeartbeatKind
from ops.services import heartbeat_beat
from runs.services import run_execute, runs_sweep

logger = logging.getLogger(__name__)


def run_execute_task(run_id: str) -> None:
    started = time.monotonic()
    with run_context(run_id):
        run = run_execute(run_id=run_id)
        if run is not None:
            took = time.monotonic() - started
            DELIVERY_DURATION.labels(run.status).observe(took)
            logger.info("Run attempt %s ended %s in %.2f s.", run.attempt_count, run.status, took)


def runs_sweep_task() -> str:
    """The periodic sweep (a django-q2 schedule installed by runs/migrations/0003)."""
    result = runs_sweep()
    heartbeat_beat(kind=HeartbeatKind.SWEEP)
    return str(result)
