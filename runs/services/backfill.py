"""Backfill: a parent run with a child run per selected bill, and the parent settling once its
children are done."""

from __future__ import annotations

import datetime
from collections import Counter

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from integrations.rules import integration_bill_refusal, integration_send_refusal
from m3terdata.models import Bill
from m3terdata.selectors import bill_list
from m3terpaddle.text import sentences
from runs.models import Delivery, IntegrationRun, LogLevel, RunLogEntry, RunStatus, RunTrigger
from runs.services.create import (
    created_entry,
    integration_fields,
    run_new,
    runs_enqueue_on_commit,
)
from runs.services.state import (
    BATCH,
    NOT_FINAL_STATUSES,
    OK_STATUSES,
    PERSON_RETRYABLE_STATUSES,
    RunChanged,
    RunRefused,
    by_whom,
    chunks,
    run_log,
    run_transition,
    runs_transition_bulk,
    series_reset,
)


def runs_backfill(
    *,
    integration,
    bill_job_id=None,
    date_from=None,
    date_to=None,
    bill_ids=None,
    user=None,
) -> IntegrationRun:
    """Send every bill of a bill job, of a bill-date range, or of a list of ids that the
    integration selects: a parent run with one child run per bill, whose progress it shows.
    Bills the integration does not select, or that have not changed since their last delivery
    to it, get no child (the parent's log counts them)."""
    selection = {
        "bill_job_id": bill_job_id or None,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
        "bill_ids": list(dict.fromkeys(bill_ids)) if bill_ids else None,
    }
    return backfill_create(integration=integration, selection=selection, user=user)


def backfill_create(
    *, integration, selection: dict, user=None, replayed_from=None
) -> IntegrationRun:
    bills = _backfill_bills(integration=integration, selection=selection)
    with transaction.atomic():
        parent = IntegrationRun.objects.create(
            **integration_fields(integration),
            trigger=RunTrigger.BACKFILL,
            replayed_from=replayed_from,
            status=RunStatus.STARTED,
            dt_started=timezone.now(),
            selection=selection,
        )
        skipped, child_ids = Counter(), []
        for chunk in chunks(bills.iterator(chunk_size=BATCH), BATCH):
            delivered = dict(
                Delivery.objects.filter(
                    integration=integration, bill_m3ter_id__in=[b.m3ter_id for b in chunk]
                ).values_list("bill_m3ter_id", "delivered_hash")
            )
            children = []
            for bill in chunk:
                why_not = integration_bill_refusal(
                    integration=integration, bill=bill, delivered_hash=delivered.get(bill.m3ter_id)
                )
                if why_not:
                    skipped[why_not] += 1
                else:
                    children.append(
                        run_new(
                            integration=integration,
                            bill=bill,
                            trigger=RunTrigger.BACKFILL,
                            parent=parent,
                        )
                    )
            IntegrationRun.objects.bulk_create(children)
            RunLogEntry.objects.bulk_create(created_entry(child, child.bill) for child in children)
            child_ids.extend(child.pk for child in children)
        run_log(
            run=parent,
            message=sentences(
                f"Backfill{by_whom(user)} of {_describe(selection)}: {len(child_ids)} bills to "
                "send",
                *(f"{n} skipped: {reason}" for reason, n in skipped.items()),
            ),
            data={"selection": selection, "runs": len(child_ids), "skipped": dict(skipped)},
        )
        if child_ids:
            runs_enqueue_on_commit(run_ids=child_ids)
        else:
            run_transition(run=parent, to=RunStatus.COMPLETE, dt_completed=timezone.now())
    return parent


def _describe(selection: dict) -> str:
    parts = []
    if selection.get("bill_job_id"):
        parts.append(f"bill job {selection['bill_job_id']}")
    if selection.get("date_from") or selection.get("date_to"):
        parts.append(
            f"bill dates {selection.get('date_from') or '…'} to {selection.get('date_to') or '…'}"
        )
    if selection.get("bill_ids"):
        parts.append(f"{len(selection['bill_ids'])} chosen bills")
    return ", ".join(parts)


def _backfill_bills(*, integration, selection: dict):
    """The bills a backfill covers, checked: raises RunRefused with what to correct."""
    cannot_send = integration_send_refusal(integration=integration)
    if cannot_send:
        raise RunRefused(cannot_send.text)
    if not any(selection.values()):
        raise RunRefused("Choose the bills to send: a bill job, a range of bill dates, or bills.")
    date_from, date_to = (
        datetime.date.fromisoformat(selection[key]) if selection.get(key) else None
        for key in ("date_from", "date_to")
    )
    if date_from and date_to and date_from > date_to:
        raise RunRefused(f"The start date {date_from} is after the end date {date_to}.")
    wanted = selection.get("bill_ids") or None
    if wanted:
        known = set(Bill.objects.filter(m3ter_id__in=wanted).values_list("m3ter_id", flat=True))
        unknown = [bill_id for bill_id in wanted if bill_id not in known]
        if unknown:
            raise RunRefused(f"No bill with id: {', '.join(unknown)}.")
    # The bill list's own filters; whole rows (defer(None)), since deciding and sending need the
    # content hash and the account's filter fields, and oldest first, the order bills happened.
    bills = bill_list(
        bill_job_id=selection.get("bill_job_id") or "",
        date_from=date_from,
        date_to=date_to,
        bill_ids=wanted,
    )
    if not bills.exists():
        raise RunRefused(
            f"No bill matches {_selection_words(selection)}, so nothing was sent and no run was "
            "made. Check the bill job id, or choose a range of bill dates that has bills."
        )
    return bills.defer(None).order_by("bill_date", "m3ter_id")


def _selection_words(selection: dict) -> str:
    parts = []
    if selection.get("bill_job_id"):
        parts.append(f"bill job {selection['bill_job_id']}")
    if selection.get("date_from") or selection.get("date_to"):
        start, end = selection.get("date_from") or "any", selection.get("date_to") or "any"
        parts.append(f"bill dates {start} to {end}")
    if selection.get("bill_ids"):
        parts.append("the ticked bills")
    return " with ".join(parts)


def backfill_retry(*, parent: IntegrationRun, user=None) -> IntegrationRun:
    with transaction.atomic():
        failed = list(
            IntegrationRun.objects.select_for_update()
            .filter(parent=parent, status__in=PERSON_RETRYABLE_STATUSES)
            .values_list("pk", "status")
        )
        by_status = {}
        for pk, status in failed:
            by_status.setdefault(status, []).append(pk)
        for status, ids in by_status.items():
            runs_transition_bulk(run_ids=ids, frm=status, to=RunStatus.WAITING, **series_reset())
        ids = [pk for pk, _ in failed]
        RunLogEntry.objects.bulk_create(
            RunLogEntry(run_id=pk, message=f"Retried with its backfill{by_whom(user)}.")
            for pk in ids
        )
        run_transition(run=parent, to=RunStatus.WAITING, dt_completed=None)
        run_transition(run=parent, to=RunStatus.STARTED, error="", error_hint="")
        run_log(run=parent, message=f"Retried{by_whom(user)}: {len(ids)} failed bills sent again.")
        runs_enqueue_on_commit(run_ids=ids)
        if not ids:
            parent_settle(parent_id=parent.pk)
    return parent


def parent_settle(*, parent_id) -> bool:
    """Finish a backfill parent once all its children are final: COMPLETE when every one ended
    well, else ERROR with the count. True when it was finished now."""
    children = IntegrationRun.objects.filter(parent_id=parent_id)
    if children.filter(status__in=NOT_FINAL_STATUSES).exists():
        return False
    parent = IntegrationRun.objects.get(pk=parent_id)
    if parent.status not in (RunStatus.WAITING, RunStatus.STARTED):
        return False
    counts = Counter(
        dict(
            children.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
    )
    total = counts.total()
    failed = total - sum(counts[status] for status in OK_STATUSES)
    breakdown = ", ".join(
        f"{counts[status]} {status.label}"
        for status in RunStatus
        if counts[status] and status not in OK_STATUSES
    )
    try:
        run_transition(
            run=parent,
            to=RunStatus.ERROR if failed else RunStatus.COMPLETE,
            dt_completed=timezone.now(),
            error=f"{failed} of {total} bills failed ({breakdown})." if failed else "",
            error_hint="Open the failed runs below and do what each one says, then Retry them "
            "(Retry on this run retries them all)."
            if failed
            else "",
        )
    except RunChanged:
        return False
    run_log(
        run=parent,
        level=LogLevel.WARNING if failed else LogLevel.INFO,
        message=f"All {total} bills finished: {total - failed} delivered, {failed} failed.",
    )
    return True


def parent_reopen(*, parent_id) -> None:
    """A failed child is retried: its finished parent is in progress again."""
    parent = IntegrationRun.objects.get(pk=parent_id)
    if parent.status in PERSON_RETRYABLE_STATUSES:
        run_transition(run=parent, to=RunStatus.WAITING, dt_completed=None)
        run_transition(run=parent, to=RunStatus.STARTED, error="", error_hint="")
