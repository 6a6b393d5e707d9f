from django.db import models


class RateLimitSlot(models.Model):
    """The shared state of one rate limiter (one Paddle API host): the earliest moment the
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
    # A set-up under way, until when: another waits for it rather than make a second setting.
    setting_up_until = models.DateTimeField(null=True, blank=True, editable=False)
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
    unique per credential, so a redelivered event is recognised and answered without being
    applied twice. Not across the hub: Paddle sends one event, with one id, to every notification
    setting of its account, and two credentials (two keys of one account) each have one; each
    copy is applied to its own credential's deliveries."""

    event_id = models.CharField(max_length=64)
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
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "event_id"], name="paddle_event_unique_per_credential"
            )
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} ({self.get_status_display()})"


class PaddleAccountLink(models.Model):
    """What the hub has made sure of, in Paddle, for one account under one integration: that
    `customer_id` is active and named, and that `address_id` is active and holds the account's
    address as it was when its digest was taken. A bill for an account whose customer and
    address are still what is recorded here costs Paddle one request (the transaction); anything
    else is checked and brought up to date first."""

    integration = models.ForeignKey(
        "integrations.IntegrationConfiguration", on_delete=models.CASCADE, related_name="+"
    )
    account_m3ter_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=50)
    address_id = models.CharField(max_length=50, blank=True)
    # sha256 of the address fields sent to Paddle; empty when no address was checked.
    address_digest = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "account_m3ter_id"], name="paddle_account_link_unique"
            )
        ]

    def __str__(self):
        return f"Account {self.account_m3ter_id} → {self.customer_id}"

    def vouches_for_customer(self, customer_id: str) -> bool:
        return bool(customer_id) and customer_id == self.customer_id

    def vouches_for_address(self, address_id: str, digest: str) -> bool:
        """`address_id` is the address checked for this customer, and still holds the account's
        address with `digest`."""
        return bool(address_id) and (address_id, digest) == (self.address_id, self.address_digest)


class CircuitState(models.TextChoices):
    CLOSED = "CLOSED", "Closed: Paddle answers"
    OPEN = "OPEN", "Open: Paddle is unavailable"


class PaddleCircuit(models.Model):
    """The circuit breaker of one Paddle host (scheme://host:port), shared by every worker: it
    opens after PADDLE_CIRCUIT_FAILURES failed requests in a row (5xx, timeouts, connection
    errors); while open, requests wait instead of going out, except one probe every
    PADDLE_CIRCUIT_PROBE_SECONDS, whose answer closes it again."""

    host = models.CharField(max_length=200, primary_key=True)
    state = models.CharField(
        max_length=8, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=CircuitState.values), name="paddlecircuit_state_valid"
            )
        ]

    def __str__(self):
        return f"{self.host}: {self.get_state_display()}"
