"""Reads of the operations app: is this deployment ready to take work?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min
from django.utils import timezone

from ops.models import Heartbeat, HeartbeatKind
from paddle_destination.models import PaddleCircuit
from runs.models import RETRYABLE_STATUSES, IntegrationRun, RunStatus

logger = logging.getLogger(__name__)


def _age_check(kind: str, max_age: float, what: str) -> dict:
    last = Heartbeat.objects.filter(kind=kind).aggregate(last=Max("seen_at"))["last"]
    if last is None:
        return {"ok": False, "error": f"No {what} has been seen yet."}
    age = (timezone.now() - last).total_seconds()
    check = {"ok": age <= max_age, "last_seen": last.isoformat(), "age_seconds": round(age, 1)}
    if not check["ok"]:
        check["error"] = f"The last {what} was {age:.0f} s ago (more than {max_age:g} s)."
    return check


def _database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # the probe reports what is wrong instead of failing itself
        logger.warning("Readiness: the database does not answer: %s", exc)
        return {"ok": False, "error": f"The database does not answer ({type(exc).__name__})."}
    return {"ok": True, "vendor": connection.vendor}


def _broker_check() -> dict:
    from django_q.brokers import get_broker

    try:
        broker = get_broker()
        answered = broker.ping()
        depth = broker.queue_size()
    except Exception as exc:
        logger.warning("Readiness: the task broker does not answer: %s", exc)
        return {"ok": False, "error": f"The task broker does not answer ({type(exc).__name__})."}
    if not answered:
        return {"ok": False, "error": "The task broker does not answer."}
    return {"ok": True, "broker": type(broker).__name__, "queue_depth": depth}


def readiness() -> dict:
    """{"ready": bool, "checks": {name: {"ok": bool, ...}}}: the database and the task broker
    answer, a qcluster worker beat within READY_WORKER_MAX_AGE_SECONDS, and the sweep ran
    within READY_SWEEP_MAX_AGE_SECONDS."""
    checks = {"database": _database_check()}
    if checks["database"]["ok"]:
        checks["broker"] = _broker_check()
        checks["worker"] = _age_check(
            HeartbeatKind.WORKER, settings.READY_WORKER_MAX_AGE_SECONDS, "worker heartbeat"
        )
        checks["sweep"] = _age_check(
            HeartbeatKind.SWEEP, settings.READY_SWEEP_MAX_AGE_SECONDS, "sweep"
        )
    return {"ready": all(check["ok"] for check in checks.values()), "checks": checks}


def operations_status() -> dict:
    """What the status page shows: each Paddle host's circuit, readiness, and the runs waiting."""
    waiting = (
        IntegrationRun.objects.filter(status__in=(RunStatus.WAITING, *RETRYABLE_STATUSES))
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), oldest=Min("queued_at"))
    )
    return {
        "circuits": list(PaddleCircuit.objects.order_by("host")),
        "readiness": readiness(),
        "waiting": [
            {"status": RunStatus(row["status"]), "count": row["n"], "oldest": row["oldest"]}
            for row in waiting
        ],
    }
