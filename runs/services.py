"""Integration runs: created with the bill event that causes them, executed by the worker."""

from django.db import transaction

from integrations.selectors import integration_decisions_for_bill
from runs.models import ALLOWED_TRANSITIONS, IntegrationRun, LogLevel, RunLogEntry, RunTrigger


class InvalidRunTransition(Exception):
    pass


def run_transition(*, run: IntegrationRun, to: str, **fields) -> IntegrationRun:
    """The one way a run changes status: the move must be allowed from where it stands."""
    if to != run.status and to not in ALLOWED_TRANSITIONS[run.status]:
        raise InvalidRunTransition(f"A run cannot go from {run.status} to {to}.")
    run.status = to
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["status", "updated_at", *fields])
    return run


def run_log(*, run: IntegrationRun, message: str, level: str = LogLevel.INFO, data=None):
    return RunLogEntry.objects.create(run=run, level=level, message=message, data=data or {})


def run_create(
    *, integration, bill, trigger: str = RunTrigger.BILL_EVENT, parent=None, replayed_from=None
) -> IntegrationRun:
    """A WAITING run, enqueued when the surrounding transaction commits."""
    run = IntegrationRun.objects.create(
        integration=integration,
        integration_name=integration.name,
        entity_type=integration.entity_type,
        entity_id=bill.m3ter_id,
        bill=bill,
        bill_version=bill.version,
        account_id=bill.account_id,
        destination=integration.destination,
        destination_id=str(integration.credential_id or ""),
        trigger=trigger,
        parent=parent,
        replayed_from=replayed_from,
    )
    run_log(
        run=run,
        message=f"Run created ({run.get_trigger_display()}) for bill {bill.m3ter_id} "
        f"version {bill.version}.",
    )
    run_enqueue(run=run)
    return run


def run_enqueue(*, run: IntegrationRun) -> None:
    """Queue the run for a worker once the data it needs is committed."""
    from runs.tasks import enqueue_run_execution

    run_id = run.pk
    transaction.on_commit(lambda: enqueue_run_execution(run_id=run_id))


def runs_create_for_bill_event(*, bill) -> list[IntegrationRun]:
    """A run for each integration that selects this version of the bill."""
    return [
        run_create(integration=decision.integration, bill=bill)
        for decision in integration_decisions_for_bill(bill=bill)
        if decision.send
    ]
