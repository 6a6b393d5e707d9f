import uuid

from django.db import models
from django.utils import timezone

from credentials.models import Destination
from integrations.models import EntityType


class RunStatus(models.TextChoices):
    """m3ter's integration run statuses."""

    WAITING = "WAITING", "Waiting"
    STARTED = "STARTED", "Started"
    COMPLETE = "COMPLETE", "Complete"
    ERROR = "ERROR", "Error"
    AWAITING_RETRY = "AWAITING_RETRY", "Awaiting retry"
    AUTH_FAILED = "AUTH_FAILED", "Authentication failed"
    ACCOUNTING_PERIOD_CLOSED = "ACCOUNTING_PERIOD_CLOSED", "Accounting period closed"
    INVOICE_ALREADY_PAID = "INVOICE_ALREADY_PAID", "Invoice already paid"
    DISABLED = "DISABLED", "Integration disabled"
    TIMEOUT_LIMIT_EXCEEDED = "TIMEOUT_LIMIT_EXCEEDED", "Timeout limit exceeded"
    RATE_LIMIT_RETRY = "RATE_LIMIT_RETRY", "Rate limit retry"


FINAL_STATUSES = frozenset(
    {
        RunStatus.COMPLETE,
        RunStatus.ERROR,
        RunStatus.AUTH_FAILED,
        RunStatus.ACCOUNTING_PERIOD_CLOSED,
        RunStatus.INVOICE_ALREADY_PAID,
        RunStatus.DISABLED,
        RunStatus.TIMEOUT_LIMIT_EXCEEDED,
    }
)
RETRYABLE_STATUSES = frozenset({RunStatus.AWAITING_RETRY, RunStatus.RATE_LIMIT_RETRY})

# The only moves a run may make; `runs.services.run_transition` enforces them.
ALLOWED_TRANSITIONS = {
    RunStatus.WAITING: {RunStatus.STARTED, RunStatus.DISABLED, RunStatus.COMPLETE, RunStatus.ERROR},
    RunStatus.STARTED: {
        RunStatus.COMPLETE,
        RunStatus.ERROR,
        RunStatus.AWAITING_RETRY,
        RunStatus.RATE_LIMIT_RETRY,
        RunStatus.AUTH_FAILED,
        RunStatus.INVOICE_ALREADY_PAID,
        RunStatus.DISABLED,
        RunStatus.TIMEOUT_LIMIT_EXCEEDED,
        RunStatus.ACCOUNTING_PERIOD_CLOSED,
    },
    RunStatus.AWAITING_RETRY: {RunStatus.STARTED, RunStatus.DISABLED, RunStatus.ERROR},
    RunStatus.RATE_LIMIT_RETRY: {RunStatus.STARTED, RunStatus.DISABLED, RunStatus.ERROR},
    # A person's Retry sends a finished, failed run through again.
    RunStatus.ERROR: {RunStatus.WAITING},
    RunStatus.AUTH_FAILED: {RunStatus.WAITING},
    RunStatus.DISABLED: {RunStatus.WAITING},
    RunStatus.TIMEOUT_LIMIT_EXCEEDED: {RunStatus.WAITING},
    RunStatus.ACCOUNTING_PERIOD_CLOSED: {RunStatus.WAITING},
    RunStatus.INVOICE_ALREADY_PAID: set(),
    RunStatus.COMPLETE: set(),
}


class RunTrigger(models.TextChoices):
    BILL_EVENT = "BILL_EVENT", "Bill generated, recalculated or approved"
    REPLAY = "REPLAY", "Replay"
    SEND_AGAIN = "SEND_AGAIN", "Send again"
    BACKFILL = "BACKFILL", "Backfill"


class IntegrationRun(models.Model):
    """One delivery of one bill to one integration (or, for a backfill, the parent of many)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        "integrations.IntegrationConfiguration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    # Kept on the run so it stays readable after its integration is deleted.
    integration_name = models.CharField(max_length=200)
    entity_type = models.CharField(
        max_length=32, choices=EntityType.choices, default=EntityType.BILL
    )
    entity_id = models.CharField(max_length=64, blank=True, help_text="The bill's m3ter id.")
    bill = models.ForeignKey(
        "m3terdata.Bill", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    bill_version = models.PositiveBigIntegerField(null=True, blank=True)
    account = models.ForeignKey(
        "m3terdata.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    destination = models.CharField(max_length=32, choices=Destination.choices)
    destination_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, choices=RunStatus.choices, default=RunStatus.WAITING)
    trigger = models.CharField(
        max_length=16, choices=RunTrigger.choices, default=RunTrigger.BILL_EVENT
    )
    dt_started = models.DateTimeField(null=True, blank=True)
    dt_completed = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_hint = models.TextField(blank=True, help_text="What to do about the error.")
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The Paddle transaction id."
    )
    url = models.URLField(max_length=500, blank=True)
    total_note = models.TextField(
        blank=True,
        help_text="Why the Paddle invoice's total before tax differs from the bill's (e.g. "
        "excluded line item types); empty when they are equal.",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    replayed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Automatic retries in the current series (a person's Retry starts a new series): after
    # transient failures or a dead worker, and, counted apart, after Paddle's rate limit.
    retry_count = models.PositiveIntegerField(default=0)
    rate_limit_retry_count = models.PositiveIntegerField(default=0)
    # While STARTED: when the worker's claim lapses; past it, the sweep takes the run back.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the run was last put on the task queue, so the sweep queues each due retry once.
    queued_at = models.DateTimeField(null=True, blank=True)
    # A backfill parent's bill selection (bill_job_id, date_from, date_to, bill_ids), for Replay.
    selection = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["integration", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["entity_id", "-created_at"]),
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["destination", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            # A backfill's progress, and whether any of its children is still to finish.
            models.Index(fields=["parent", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="run_status_valid"
            ),
        ]

    def __str__(self):
        return f"Run {self.id} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_backfill_parent(self) -> bool:
        """A backfill's parent run: it delivers nothing itself, its children do."""
        return self.trigger == RunTrigger.BACKFILL and self.parent_id is None


class AttemptOutcome(models.TextChoices):
    SUCCESS = "SUCCESS", "Success"
    TRANSIENT = "TRANSIENT", "Transient failure"
    RATE_LIMITED = "RATE_LIMITED", "Rate limited"
    AUTH_FAILED = "AUTH_FAILED", "Authentication failed"
    INVALID = "INVALID", "Invalid request"
    IMMUTABLE = "IMMUTABLE", "Transaction no longer editable"
    NOT_FOUND = "NOT_FOUND", "Not found"
    UNSUPPORTED = "UNSUPPORTED", "Bill not supported"
    SKIPPED = "SKIPPED", "Skipped"
    ERROR = "ERROR", "Unexpected error"


class RunAttempt(models.Model):
    """One try at a run: when, how long, how it ended, and a redacted summary of what was said."""

    run = models.ForeignKey(IntegrationRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    request_summary = models.JSONField(default=dict, blank=True)
    response_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="attempt_unique_number")
        ]

    def __str__(self):
        return f"Attempt {self.number} of run {self.run_id}: {self.get_outcome_display()}"


class LogLevel(models.TextChoices):
    DEBUG = "DEBUG", "Debug"
    INFO = "INFO", "Info"
    WARNING = "WARNING", "Warning"
    ERROR = "ERROR", "Error"


class RunLogEntry(models.Model):
    run = models.ForeignKey(IntegrationRun, on_delete=models.CASCADE, related_name="log_entries")
    # Set when the event happens, not when the batch of entries is saved.
    created_at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=8, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField()
    data = models.JSONField(
        default=dict, blank=True, help_text="Structured detail, secrets removed."
    )

    class Meta:
        ordering = ["run", "created_at", "id"]
        verbose_name_plural = "run log entries"

    def __str__(self):
        return f"{self.get_level_display()}: {self.message[:80]}"


class InvoiceStatus(models.TextChoices):
    """The Paddle transaction's status as the hub last learned it (webhook or reconciliation)."""

    DRAFT = "DRAFT", "Draft"
    READY = "READY", "Ready"
    BILLED = "BILLED", "Issued"
    PAST_DUE = "PAST_DUE", "Overdue"
    PAID = "PAID", "Paid"
    COMPLETED = "COMPLETED", "Completed"
    CANCELED = "CANCELED", "Canceled"


# How far along an invoice is: a status only ever moves forward. Canceled ends a draft, ready,
# issued or overdue invoice (Paddle cannot cancel a paid one: that takes an adjustment).
INVOICE_STATUS_RANK = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.READY: 1,
    InvoiceStatus.BILLED: 2,
    InvoiceStatus.PAST_DUE: 3,
    InvoiceStatus.PAID: 4,
    InvoiceStatus.COMPLETED: 5,
    InvoiceStatus.CANCELED: 4,
}
# Issued to the customer: Paddle no longer lets the transaction change.
INVOICE_ISSUED_STATUSES = frozenset(
    {InvoiceStatus.BILLED, InvoiceStatus.PAST_DUE, InvoiceStatus.PAID, InvoiceStatus.COMPLETED}
)


class Delivery(models.Model):
    """The sync record: one row per integration and bill holding the Paddle transaction it made,
    written the moment Paddle answers, so a bill can never get a second transaction."""

    integration = models.ForeignKey(
        "integrations.IntegrationConfiguration", on_delete=models.CASCADE, related_name="deliveries"
    )
    bill_m3ter_id = models.CharField(max_length=64)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The Paddle transaction id."
    )
    customer_id = models.CharField(max_length=64, blank=True)
    delivered_hash = models.CharField(max_length=64, blank=True)
    delivered_version = models.PositiveBigIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Why the delivered invoice's total before tax differs from the bill's; empty when equal.
    total_note = models.TextField(blank=True)
    # When a request to create the transaction was last sent. Without an external_id, it means
    # Paddle may hold a transaction whose id never came back; without either, nothing reached
    # Paddle's transactions, so there is nothing to look for before creating.
    create_sent_at = models.DateTimeField(null=True, blank=True)
    # The run delivering this bill right now, until when: two workers never send the same bill to
    # the same integration at once (both could otherwise create a transaction).
    claimed_by = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The invoice's life in Paddle after the draft; moved only by
    # runs.services.invoice_status.delivery_invoice_status_apply. Blank: nothing heard yet.
    invoice_status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, blank=True, db_index=True
    )
    invoice_number = models.CharField(max_length=64, blank=True)
    # When the event that set the status happened in Paddle: older news changes nothing.
    invoice_status_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "bill_m3ter_id"], name="delivery_unique_integration_bill"
            ),
            models.CheckConstraint(
                condition=models.Q(invoice_status__in=[*InvoiceStatus.values, ""]),
                name="delivery_invoice_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["external_id"])]

    def __str__(self):
        return f"Bill {self.bill_m3ter_id} → {self.external_id or '(not created yet)'}"

    @property
    def invoice_issued(self) -> bool:
        return self.invoice_status in INVOICE_ISSUED_STATUSES
