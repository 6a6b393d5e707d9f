"""Bills in from m3ter: the organisation the hub pulls from, each pull, and each webhook event."""

import uuid

from django.db import models

from credentials.crypto import decrypt_secret
from m3terpaddle.model_fields import user_field

DEFAULT_BASE_URL = "https://api.m3ter.com"


class PullStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    PARTIAL = "PARTIAL", "Stopped early; continues at the next pull"
    FAILED = "FAILED", "Failed"


class PullTrigger(models.TextChoices):
    SCHEDULE = "SCHEDULE", "Schedule"
    MANUAL = "MANUAL", "Pull now"
    COMMAND = "COMMAND", "Command line"


class M3terConnection(models.Model):
    """An m3ter organisation: the service user the pull signs in as (its secret encrypted at rest,
    never shown again but for its hint), the credentials m3ter signs its webhooks with, and where
    the pull has got to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    org_id = models.CharField("organization id", max_length=64)
    api_key_id = models.CharField(
        "API key id", max_length=200, help_text="The access key id of an m3ter service user."
    )
    api_secret_encrypted = models.TextField(editable=False)
    api_secret_hint = models.CharField("API secret", max_length=16, editable=False)
    base_url = models.URLField("base URL", max_length=300, default=DEFAULT_BASE_URL)
    enabled = models.BooleanField(
        default=True, help_text="Pulled on schedule and accepts webhooks only when enabled."
    )

    # What m3ter's Outgoing webhook signs with (Credential type M3TER_SIGNED_REQUEST).
    webhook_api_key = models.CharField("webhook API key", max_length=200, blank=True)
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    webhook_secret_hint = models.CharField(
        "webhook API secret", max_length=16, blank=True, editable=False
    )

    # Where each pull resumes: everything modified before a cursor (less an overlap) is in.
    accounts_cursor = models.DateTimeField(null=True, blank=True, editable=False)
    external_mappings_cursor = models.DateTimeField(null=True, blank=True, editable=False)
    bills_cursor = models.DateTimeField(null=True, blank=True, editable=False)
    # Sweeps not finished yet (offsets, page tokens), saved after every page.
    pull_progress = models.JSONField(default=dict, blank=True, editable=False)
    # One pull at a time per connection: a pull holds this lease while it runs.
    pull_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    last_pull_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_pull_status = models.CharField(
        max_length=16, choices=PullStatus.choices, blank=True, editable=False
    )
    last_pull_error = models.TextField(blank=True, editable=False)
    last_tested_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.CharField(max_length=500, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "connection to m3ter"
        verbose_name_plural = "connections to m3ter"

    def __str__(self):
        return f"{self.name} (org {self.org_id})"

    def decrypted_api_secret(self) -> str:
        """The clear secret, for the m3ter client only."""
        return decrypt_secret(self.api_secret_encrypted)

    def decrypted_webhook_secret(self) -> str:
        return (
            decrypt_secret(self.webhook_secret_encrypted) if self.webhook_secret_encrypted else ""
        )

    @property
    def accepts_webhooks(self) -> bool:
        return bool(self.enabled and self.webhook_api_key and self.webhook_secret_encrypted)


class M3terPull(models.Model):
    """One pull of accounts, external mappings and bills from m3ter."""

    connection = models.ForeignKey(M3terConnection, on_delete=models.CASCADE, related_name="pulls")
    trigger = models.CharField(max_length=16, choices=PullTrigger.choices)
    requested_by = user_field()
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PullStatus.choices, default=PullStatus.RUNNING)
    accounts_fetched = models.PositiveIntegerField(default=0)
    accounts_changed = models.PositiveIntegerField(default=0)
    external_mappings_fetched = models.PositiveIntegerField(default=0)
    external_mappings_changed = models.PositiveIntegerField(default=0)
    bills_fetched = models.PositiveIntegerField(default=0)
    bills_changed = models.PositiveIntegerField(
        default=0, help_text="New or changed bills: each one was a bill event."
    )
    records_skipped = models.PositiveIntegerField(default=0)
    # Records m3ter sent that could not be stored, each with what was wrong with it.
    problems = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "pull from m3ter"
        verbose_name_plural = "pulls from m3ter"
        indexes = [models.Index(fields=["connection", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PullStatus.values), name="m3terpull_status_valid"
            )
        ]

    def __str__(self):
        return f"Pull {self.pk} of {self.connection.name} ({self.get_status_display()})"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class InboundEventStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Received"
    PROCESSED = "PROCESSED", "Processed"
    IGNORED = "IGNORED", "Ignored"
    FAILED = "FAILED", "Failed"


class InboundEvent(models.Model):
    """A webhook m3ter sent, stored as received once its signature checked out."""

    connection = models.ForeignKey(
        M3terConnection, on_delete=models.CASCADE, related_name="inbound_events"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event_id = models.CharField("m3ter event id", max_length=64, blank=True, db_index=True)
    event_name = models.CharField(max_length=100)
    event_time = models.DateTimeField(null=True, blank=True)
    entity_id = models.CharField(max_length=64, blank=True, db_index=True)
    entity_version = models.PositiveBigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=InboundEventStatus.choices, default=InboundEventStatus.RECEIVED
    )
    outcome = models.TextField(blank=True, help_text="What processing did, in words.")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "webhook event from m3ter"
        verbose_name_plural = "webhook events from m3ter"
        indexes = [models.Index(fields=["connection", "-received_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=InboundEventStatus.values),
                name="inboundevent_status_valid",
            )
        ]

    def __str__(self):
        return f"{self.event_name} {self.entity_id} ({self.get_status_display()})"


class InboundEventsPruned(models.Model):
    """How many stored webhook events of a status were pruned after WEBHOOK_EVENT_RETENTION_DAYS:
    added to those still stored, it keeps the count of events ever received (a Prometheus
    counter, ops.collector) from going down when old ones are deleted."""

    status = models.CharField(max_length=16, choices=InboundEventStatus.choices, unique=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "inbound events pruned"

    def __str__(self):
        return f"{self.count} {self.get_status_display().lower()} events pruned"
