"""What a person asks of a run: Retry, Replay, and Send again."""

from __future__ import annotations

from django.db import transaction

from integrations.selectors import integration_decisions_for_bill
from runs.models import IntegrationRun, RunStatus, RunTrigger
from runs.services.backfill import backfill_create, backfill_retry, parent_reopen
from runs.services.create import run_create, run_enqueue
from runs.services.state import (
    PERSON_RETRYABLE_STATUSES,
    InvalidRunTransition,
    RunRefused,
    by_whom,
    run_log,
    run_transition,
    series_reset,
    status_label,
)


def run_retry(*, run: IntegrationRun, user=None) -> IntegrationRun:
    """Send a failed run through again (a backfill parent: all its failed children)."""
    if run.status not in PERSON_RETRYABLE_STATUSES:
        raise InvalidRunTransition(
            f"Only a run that failed can be retried; this one is {status_label(run.status)}. "
            "Replay it to send the bill again."
        )
    if run.is_backfill_parent:
        return backfill_retry(parent=run, user=user)
    with transaction.atomic():
        run_transition(run=run, to=RunStatus.WAITING, **series_reset())
        run_log(run=run, message=f"Retried{by_whom(user)}.")
        run_enqueue(run=run)
        if run.parent_id:
            parent_reopen(parent_id=run.parent_id)
    return run


def run_replay(*, run: IntegrationRun, user=None) -> IntegrationRun:
    """A new run, linked to `run`, that sends the bill again with its current data (a backfill
    parent: the same selection of bills again)."""
    if run.integration_id is None:
        raise RunRefused(
            f"The integration {run.integration_name!r} was deleted; its runs cannot be replayed."
        )
    if run.is_backfill_parent:
        return backfill_create(
            integration=run.integration, selection=run.selection, user=user, replayed_from=run
        )
    if run.bill_id is None:
        raise RunRefused(
            f"Bill {run.entity_id} is no longer in the hub; import it again to send it."
        )
    with transaction.atomic():
        replay = run_create(
            integration=run.integration,
            bill=run.bill,
            trigger=RunTrigger.REPLAY,
            replayed_from=run,
        )
        run_log(run=replay, message=f"Replay of run {run.pk}{by_whom(user)}.")
    return replay


def bill_send_again(*, bill, integration=None, user=None) -> list[IntegrationRun]:
    """Send the bill again, even unchanged, to every integration that selects it (or to the one
    given: RunRefused when it does not select the bill, saying why)."""
    decisions = integration_decisions_for_bill(bill=bill, delivered_hashes={})
    if integration is not None:
        decisions = [d for d in decisions if d.integration.pk == integration.pk]
        if not decisions:
            raise RunRefused(f"The integration {integration.name!r} does not send bills.")
        if not decisions[0].send:
            raise RunRefused(f"Not sent to {integration.name!r}: {decisions[0].reason}")
    with transaction.atomic():
        runs = []
        for decision in decisions:
            if decision.send:
                run = run_create(
                    integration=decision.integration, bill=bill, trigger=RunTrigger.SEND_AGAIN
                )
                run_log(run=run, message=f"Sent again{by_whom(user)}.")
                runs.append(run)
    return runs
