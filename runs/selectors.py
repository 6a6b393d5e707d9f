"""Reads about runs for the review pages, the bill page and the integration page."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import IntegrationConfiguration
from integrations.rules import BillIntegrationStatus, integration_bill_status
from integrations.selectors import BillDecision, integration_decisions_for_bill
from m3terdata.models import Bill
from m3terdata.selectors import account_ids_matching, bill_list
from runs.models import (
    FINAL_STATUSES,
    RETRYABLE_STATUSES,
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    RunAttempt,
    RunLogEntry,
    RunStatus,
)

# The columns a row of run history shows; loading only these keeps a page of runs one query.
RUN_ROW_FIELDS = (
    "id",
    "created_at",
    "status",
    "trigger",
    "integration_id",
    "integration_name",
    "entity_id",
    "bill_id",
    "destination",
    "external_id",
    "url",
    "total_note",
    "dt_started",
    "dt_completed",
    "error",
    "parent_id",
    "account__id",
    "account__m3ter_id",
    "account__code",
    "account__name",
)


# The invoice's life in Paddle, as the bill's Delivery holds it (the same names on a run).
INVOICE_FIELDS = ("invoice_status", "invoice_number", "issued_at", "paid_at", "canceled_at")


def _invoice_annotations(deliveries: QuerySet[Delivery]) -> dict:
    """INVOICE_FIELDS read from the first of `deliveries` (a subquery on the outer row)."""
    value = {name: Subquery(deliveries.values(name)[:1]) for name in INVOICE_FIELDS}
    for text in ("invoice_status", "invoice_number"):  # "" rather than NULL without a delivery
        value[text] = Coalesce(value[text], Value(""))
    return value


def runs_with_invoice_status(runs: QuerySet[IntegrationRun]) -> QuerySet[IntegrationRun]:
    """Runs annotated with their bill's invoice status for their integration (part of the same
    query: no query per row)."""
    delivery = Delivery.objects.filter(
        integration_id=OuterRef("integration_id"), bill_m3ter_id=OuterRef("entity_id")
    )
    return runs.annotate(**_invoice_annotations(delivery))


def run_status_tone(status: str) -> str:
    """The Bootstrap colour a status is shown in: green delivered, blue left alone (already
    paid in Paddle), red failed, amber retrying by itself."""
    if status == RunStatus.COMPLETE:
        return "success"
    if status == RunStatus.INVOICE_ALREADY_PAID:
        return "info"
    if status in FINAL_STATUSES:
        return "danger"
    if status in RETRYABLE_STATUSES:
        return "warning"
    if status == RunStatus.STARTED:
        return "primary"
    return "secondary"


def run_list(
    *,
    integration_id=None,
    status: str = "",
    destination: str = "",
    account: str = "",
    bill: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    parent_id=None,
    invoice_status: str = "",
) -> QuerySet[IntegrationRun]:
    """Runs newest first, narrowed by any of the filters given.

    `account` is an account's m3ter id, code or part of its name; `bill` a bill's m3ter id or
    its start; the dates bound the day
    the run was created (both included), in the site's time zone."""
    runs = runs_with_invoice_status(
        IntegrationRun.objects.select_related("account").only(*RUN_ROW_FIELDS)
    )
    if invoice_status:
        runs = runs.filter(invoice_status=invoice_status)
    if integration_id:
        runs = runs.filter(integration_id=integration_id)
    if status:
        runs = runs.filter(status=status)
    if destination:
        runs = runs.filter(destination=destination)
    if account:
        runs = runs.filter(account_id__in=account_ids_matching(account))
    if bill:
        # The start of a bill's id finds it, as the lists show ids cut short.
        runs = runs.filter(entity_id__startswith=bill)
    if date_from:
        runs = runs.filter(created_at__gte=_start_of_day(date_from))
    if date_to:
        runs = runs.filter(created_at__lt=_start_of_day(date_to + datetime.timedelta(days=1)))
    if parent_id:
        runs = runs.filter(parent_id=parent_id)
    return runs.order_by("-created_at")


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def run_detail(*, run_id) -> IntegrationRun:
    """One run with everything its page shows, attempts and log included, in a fixed number
    of queries. Raises IntegrationRun.DoesNotExist."""
    return (
        runs_with_invoice_status(IntegrationRun.objects.all())
        .select_related("integration", "account", "bill", "parent", "replayed_from")
        .prefetch_related("attempts", "log_entries", "replays")
        .get(pk=run_id)
    )


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    tone: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


def _status_counts(runs: QuerySet) -> list[StatusCount]:
    """How many runs are in each status, in the order the statuses are declared."""
    counts = dict(
        runs.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return [
        StatusCount(
            status=status, label=status.label, count=counts[status], tone=run_status_tone(status)
        )
        for status in RunStatus
        if counts.get(status)
    ]


@dataclass(frozen=True)
class RunProgress:
    """How far a parent (backfill) run's children have got."""

    counts: list[StatusCount]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)

    @property
    def done(self) -> int:
        return sum(c.count for c in self.counts if c.status in FINAL_STATUSES)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    def segments(self) -> list[tuple[StatusCount, float]]:
        """Each status with its share of the bar, in percent."""
        return [(c, c.count * 100 / self.total) for c in self.counts] if self.total else []

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "done": self.done,
            "percent": self.percent,
            "complete": self.complete,
            "counts": {c.status: c.count for c in self.counts},
        }


def run_progress(*, run: IntegrationRun) -> RunProgress:
    return RunProgress(counts=_status_counts(IntegrationRun.objects.filter(parent=run)))


@dataclass(frozen=True)
class IntegrationRunsSummary:
    latest: list[IntegrationRun]
    counts: list[StatusCount]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)


def integration_runs_summary(*, integration, limit: int = 10) -> IntegrationRunsSummary:
    """An integration's latest runs and how many it has in each status, for its details page."""
    return IntegrationRunsSummary(
        latest=list(run_list(integration_id=integration.pk)[:limit]),
        counts=_status_counts(IntegrationRun.objects.filter(integration=integration)),
    )


@dataclass(frozen=True)
class BillIntegrationRow:
    """For one integration: would the bill go to it now and why, and what was delivered before."""

    decision: BillDecision
    delivery: Delivery | None
    bill: Bill
    runs_made: bool

    @property
    def status(self) -> BillIntegrationStatus:
        delivery = self.delivery
        return integration_bill_status(
            integration=self.decision.integration,
            bill=self.bill,
            transaction_id=delivery.external_id if delivery else None,
            delivered_hash=delivery.delivered_hash if delivery else None,
            runs_made=self.runs_made,
        )


def bill_delivered_hashes(*, bill) -> dict:
    """Integration id → hash of the bill's content last delivered to it."""
    return dict(
        Delivery.objects.filter(bill_m3ter_id=bill.m3ter_id).values_list(
            "integration_id", "delivered_hash"
        )
    )


def bill_integration_rows(*, bill) -> list[BillIntegrationRow]:
    deliveries = {d.integration_id: d for d in Delivery.objects.filter(bill_m3ter_id=bill.m3ter_id)}
    decisions = integration_decisions_for_bill(
        bill=bill,
        delivered_hashes={pk: d.delivered_hash for pk, d in deliveries.items()},
    )
    with_runs = set(
        IntegrationRun.objects.filter(entity_id=bill.m3ter_id)
        .values_list("integration_id", flat=True)
        .distinct()
    )
    return [
        BillIntegrationRow(
            decision=decision,
            delivery=deliveries.get(decision.integration.pk),
            bill=bill,
            runs_made=decision.integration.pk in with_runs,
        )
        for decision in decisions
    ]


def integration_list() -> QuerySet[IntegrationConfiguration]:
    """Integrations for the Configurations page, each with its latest run's status and time
    (one query for the whole page, not one per row)."""
    latest_run = IntegrationRun.objects.filter(integration=OuterRef("pk")).order_by("-created_at")
    return IntegrationConfiguration.objects.select_related("credential").annotate(
        last_run_status=Subquery(latest_run.values("status")[:1]),
        last_run_at=Subquery(latest_run.values("created_at")[:1]),
    )


# The REST API's reads, in the shapes m3ter's API answers with.


def run_records(
    *,
    status: str | None = None,
    created_from: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    integration_id=None,
    destination_id: str | None = None,
    destination: str | None = None,
) -> QuerySet[IntegrationRun]:
    """Runs narrowed by any filter given (`created_from` included, `created_before` not)."""
    lookups = {
        "status": status,
        "created_at__gte": created_from,
        "created_at__lt": created_before,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "integration_id": integration_id,
        "destination_id": destination_id,
        "destination": destination,
    }
    return runs_with_invoice_status(
        IntegrationRun.objects.filter(
            **{lookup: value for lookup, value in lookups.items() if value is not None}
        )
    )


def run_get(*, run_id) -> IntegrationRun | None:
    """The run with this id, or None. A malformed id raises ValueError or ValidationError, so
    callers can tell it from an unknown one."""
    return runs_with_invoice_status(IntegrationRun.objects.filter(pk=run_id)).first()


def run_latest(*, entity_type: str, entity_id: str) -> IntegrationRun | None:
    """The entity's newest run, or None."""
    return (
        runs_with_invoice_status(
            IntegrationRun.objects.filter(entity_type=entity_type, entity_id=entity_id)
        )
        .order_by("-created_at")
        .first()
    )


def runs_latest(*, entity_type: str, entity_ids: list[str]) -> QuerySet[IntegrationRun]:
    """The newest run of each entity that has any, in one query."""
    latest = (
        IntegrationRun.objects.filter(entity_type=entity_type, entity_id=OuterRef("entity_id"))
        .order_by("-created_at")
        .values("pk")[:1]
    )
    return runs_with_invoice_status(
        IntegrationRun.objects.filter(
            entity_type=entity_type, entity_id__in=entity_ids, pk=Subquery(latest)
        )
    )


def deliveries_by_invoice_status(
    *,
    invoice_status: str | None = None,
    bill_id: str | None = None,
    bill_ids: list[str] | None = None,
    integration_id=None,
) -> QuerySet[Delivery]:
    """The hub's Paddle transactions (one per bill and integration), narrowed by what is given;
    `invoice_status=""` means those nothing was heard of yet."""
    lookups = {
        "invoice_status": invoice_status,
        "bill_m3ter_id": bill_id,
        "bill_m3ter_id__in": bill_ids,
        "integration_id": integration_id,
    }
    return (
        Delivery.objects.exclude(external_id="")
        .filter(**{lookup: value for lookup, value in lookups.items() if value is not None})
        .select_related("integration")
    )


def run_log_entries(*, run: IntegrationRun) -> list[RunLogEntry]:
    return list(RunLogEntry.objects.filter(run=run))


def run_known_transaction_id(*, run: IntegrationRun) -> str:
    """The Paddle transaction a run that has not recorded one yet is updating: its bill's, from
    an earlier delivery to the same integration ("" when the bill has none yet)."""
    if run.external_id or not (run.integration_id and run.entity_id):
        return ""
    found = Delivery.objects.filter(
        integration_id=run.integration_id, bill_m3ter_id=run.entity_id
    ).values_list("external_id", flat=True)
    return found.first() or ""


def bill_rows(*, invoice_status: str = "", **filters) -> QuerySet:
    """The bills list (m3terdata.selectors.bill_list's filters), each bill with its latest run's
    status and the invoice status Paddle last told of, in one query for the page.

    A bill sent to several integrations shows the invoice whose status changed last; with
    `invoice_status`, only bills with an invoice in that status (for any integration), and
    that invoice is the one shown."""
    latest_run = IntegrationRun.objects.filter(entity_id=OuterRef("m3ter_id")).order_by(
        "-created_at"
    )
    heard = Delivery.objects.filter(bill_m3ter_id=OuterRef("m3ter_id")).exclude(invoice_status="")
    if invoice_status:
        heard = heard.filter(invoice_status=invoice_status)
    bills = bill_list(**filters).annotate(
        last_run_status=Subquery(latest_run.values("status")[:1]),
        **_invoice_annotations(heard.order_by(F("invoice_status_at").desc(nulls_last=True), "-pk")),
    )
    return bills.filter(invoice_status=invoice_status) if invoice_status else bills


# Outcomes a retry of the same bill under the same configuration can only repeat.
REPEATING_OUTCOMES = frozenset({AttemptOutcome.UNSUPPORTED})


def run_failure_repeats(*, last_outcome: str | None) -> bool:
    """Whether a failed run's last attempt failed in a way a retry would only repeat (too many
    items, a currency Paddle cannot invoice, negative lines): then the page says what to change
    rather than offer Retry."""
    return last_outcome in REPEATING_OUTCOMES


def backfill_failures_repeat(*, parent: IntegrationRun, failed_statuses) -> bool:
    """Whether every failed child of a backfill failed in a way a retry would only repeat: then
    Retry on the parent (which retries them all) is not offered either. One query."""
    last_outcome = RunAttempt.objects.filter(run=OuterRef("pk")).order_by("-number")
    outcomes = set(
        IntegrationRun.objects.filter(parent=parent, status__in=failed_statuses)
        .annotate(last_outcome=Subquery(last_outcome.values("outcome")[:1]))
        .values_list("last_outcome", flat=True)
        .distinct()
    )
    return bool(outcomes) and all(run_failure_repeats(last_outcome=o) for o in outcomes)
