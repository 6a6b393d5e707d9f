from django.db import models


class RateLimitSlot(models.Model):
    """The shared state of one rate limiter (one Paddle credential): the earliest moment the
    next request may go. Every worker reserves its slot by moving it on, in one row lock."""

    key = models.CharField(max_length=100, primary_key=True)
    # Seconds since the epoch (wall clock, shared by every worker process on every host).
    next_slot_at = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Rate limit {self.key}"


class SentBusiness(models.Model):
    """What the hub last sent Paddle for a business (name, company number, tax number), as a
    digest, and the customer it is under: a bill for a known business then costs no look-up,
    an account whose values changed in m3ter gets its Paddle business updated, and one now
    billed to another Paddle customer gets a business under that customer."""

    business_id = models.CharField(max_length=50, primary_key=True)
    customer_id = models.CharField(max_length=50)
    digest = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Business {self.business_id}"


class PaddleStatusSync(models.Model):
    """How one credential's Paddle account tells the hub what became of its invoices: the
    notification setting the hub made there (its secret encrypted like API keys, never shown),
    when a webhook last arrived, and the reconciliation's cursor."""

    credential = models.OneToOneField(
        "credentials.IntegrationCredential", on_delete=models.CASCADE, related_name="status_sync"
    )
    notification_setting_id = models.CharField(max_length=64, blank=True)
    endpoint_secret_key_encrypted = models.TextField(blank=True, editable=False)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhooks_set_up_at = models.DateTimeField(null=True, blank=True)
    # Why the last set-up or removal failed, in words a person can act on.
    webhook_error = models.TextField(blank=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    # Transactions updated after this moment are still to be looked at.
    reconcile_cursor = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_changed = models.PositiveIntegerField(default=0)
    last_reconcile_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Status sync of credential {self.credential_id}"

    @property
    def webhooks_set_up(self) -> bool:
        return bool(self.notification_setting_id)


class PaddleEventStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Received"
    APPLIED = "APPLIED", "Applied"
    IGNORED = "IGNORED", "Ignored"


class PaddleEvent(models.Model):
    """A verified Paddle webhook, stored when it arrives and applied on a worker. Its event id is
    unique, so a redelivered event is recognised and answered without being applied twice."""

    event_id = models.CharField(max_length=64, unique=True)
    credential = models.ForeignKey(
        "credentials.IntegrationCredential", on_delete=models.CASCADE, related_name="paddle_events"
    )
    event_type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    transaction_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=PaddleEventStatus.choices, default=PaddleEventStatus.RECEIVED
    )
    outcome = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type} {self.event_id} ({self.status})"
