"""A run's status and log: the one way a run moves, and why a move a person asked for is refused."""

from __future__ import annotations

import itertools

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from runs.models import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    IntegrationRun,
    LogLevel,
    RunLogEntry,
    RunStatus,
    RunTrigger,
)


class RunRefused(ValidationError):
    """A run action cannot be done; the message says why."""


class InvalidRunTransition(RunRefused):
    pass


class RunChanged(InvalidRunTransition):
    """The run moved on (another worker, the sweep, another click) since it was read."""


# Statuses a worker may take a run from, and those a person may Retry from.
CLAIMABLE_STATUSES = frozenset(
    status for status, moves in ALLOWED_TRANSITIONS.items() if RunStatus.STARTED in moves
)
PERSON_RETRYABLE_STATUSES = frozenset(
    status for status, moves in ALLOWED_TRANSITIONS.items() if RunStatus.WAITING in moves
)
NOT_FINAL_STATUSES = frozenset(RunStatus) - FINAL_STATUSES
# Children in these ended well: the parent is COMPLETE when all of its children did.
OK_STATUSES = frozenset({RunStatus.COMPLETE, RunStatus.INVOICE_ALREADY_PAID})
BACKFILL_PARENT = Q(trigger=RunTrigger.BACKFILL, parent__isnull=True)
# Rows written or queued per statement: one INSERT or UPDATE each, within SQLite's parameters.
BATCH = 500


def status_label(status) -> str:
    return RunStatus(status).label


def _check_move(frm: str, to: str) -> None:
    if to != frm and to not in ALLOWED_TRANSITIONS[frm]:
        raise InvalidRunTransition(
            f"A run cannot go from {status_label(frm)} to {status_label(to)}."
        )


def run_transition(*, run: IntegrationRun, to: str, **fields) -> IntegrationRun:
    """The one way a run changes status: the move must be allowed from where it stands, and the
    run must still stand where it was read (same status, same attempt) — a conditional UPDATE,
    so a worker whose claim lapsed, or a second click, cannot overwrite what happened meanwhile.
    Raises InvalidRunTransition, or RunChanged when the run has moved on."""
    _check_move(run.status, to)
    now = timezone.now()
    changed = IntegrationRun.objects.filter(
        pk=run.pk, status=run.status, attempt_count=run.attempt_count
    ).update(status=to, updated_at=now, **fields)
    if not changed:
        raise RunChanged("The run changed in the meantime; reload it and try again.")
    run.status, run.updated_at = to, now
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def runs_transition_bulk(*, run_ids, frm: str, to: str, **fields) -> int:
    """run_transition for many runs standing in the same status, in one UPDATE."""
    _check_move(frm, to)
    return IntegrationRun.objects.filter(pk__in=run_ids, status=frm).update(
        status=to, updated_at=timezone.now(), **fields
    )


def run_log(*, run: IntegrationRun, message: str, level: str = LogLevel.INFO, data=None):
    return RunLogEntry.objects.create(run=run, level=level, message=message, data=data or {})


def by_whom(user) -> str:
    return f" by {user.get_username()}" if user is not None and user.is_authenticated else ""


def chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def series_reset() -> dict:
    """A person's Retry starts a fresh series of attempts."""
    return {
        "error": "",
        "error_hint": "",
        "next_attempt_at": None,
        "retry_count": 0,
        "rate_limit_retry_count": 0,
        "dt_started": None,
        "dt_completed": None,
        "lease_expires_at": None,
        "queued_at": timezone.now(),
    }
