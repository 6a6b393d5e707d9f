"""Runs come into being with the bill event that causes them, and are queued once committed."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from integrations.selectors import integration_decisions_for_bill
from runs.models import IntegrationRun, RunLogEntry, RunTrigger
from runs.selectors import bill_delivered_hashes
from runs.services.state import BATCH, chunks


def integration_fields(integration) -> dict:
    """What a run keeps of its integration, readable after the integration is gone."""
    return {
        "integration": integration,
        "integration_name": integration.name,
        "entity_type": integration.entity_type,
        "destination": integration.destination,
        "destination_id": str(integration.credential_id or ""),
    }


def run_new(*, integration, bill, trigger, parent=None, replayed_from=None) -> IntegrationRun:
    """An unsaved WAITING run of `bill` to `integration`."""
    return IntegrationRun(
        **integration_fields(integration),
        entity_id=bill.m3ter_id,
        bill=bill,
        bill_version=bill.version,
        account_id=bill.account_id,
        trigger=trigger,
        parent=parent,
        replayed_from=replayed_from,
        queued_at=timezone.now(),
    )


def created_entry(run: IntegrationRun, bill) -> RunLogEntry:
    return RunLogEntry(
        run=run,
        message=f"Run created ({run.get_trigger_display()}) for bill {bill.m3ter_id} "
        f"version {bill.version}.",
    )


def run_create(
    *, integration, bill, trigger: str = RunTrigger.BILL_EVENT, parent=None, replayed_from=None
) -> IntegrationRun:
    """A WAITING run, enqueued when the surrounding transaction commits."""
    run = run_new(
        integration=integration,
        bill=bill,
        trigger=trigger,
        parent=parent,
        replayed_from=replayed_from,
    )
    run.save(force_insert=True)
    created_entry(run, bill).save(force_insert=True)
    run_enqueue(run=run)
    return run


def run_enqueue(*, run: IntegrationRun) -> None:
    """Queue the run for a worker once the data it needs is committed."""
    runs_enqueue_on_commit(run_ids=[run.pk])


def runs_enqueue_on_commit(*, run_ids: list) -> None:
    transaction.on_commit(lambda: runs_enqueue(run_ids=run_ids))


def runs_enqueue(*, run_ids: list) -> None:
    """Put runs on the task queue. With the ORM broker each task is a row: a batch goes in one
    transaction (one commit, not one per run); inline (sync) tasks must not run inside one."""
    batch = contextlib.nullcontext if settings.Q_CLUSTER.get("sync") else transaction.atomic
    for chunk in chunks(run_ids, BATCH):
        with batch():
            for run_id in chunk:
                run_execution_enqueue(run_id=run_id)


def run_execution_enqueue(*, run_id) -> None:
    """One task for a worker to execute the run; by dotted path, so services never import the
    tasks that call them."""
    async_task("runs.tasks.run_execute_task", str(run_id), task_name=f"run {run_id}")


def runs_create_for_bill_event(*, bill) -> list[IntegrationRun]:
    """A run for each integration that selects this version of the bill."""
    return [
        run_create(integration=decision.integration, bill=bill)
        for decision in integration_decisions_for_bill(
            bill=bill, delivered_hashes=bill_delivered_hashes(bill=bill)
        )
        if decision.send
    ]
