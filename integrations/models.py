import uuid

from django.conf import settings
from django.db import models

from credentials.models import Destination
from m3terpaddle.model_fields import user_field


class EntityType(models.TextChoices):
    BILL = "Bill", "Bill"


class SortLineItemsBy(models.TextChoices):
    NONE = "NONE", "None"
    SUBTOTAL = "SUBTOTAL", "Subtotal"
    AGGREGATION_ID = "AGGREGATION_ID", "Aggregation ID"


class IntegrationConfiguration(models.Model):
    """One integration, as the three-stage wizard creates it: entity type, destination and the
    stage-3 configuration, plus the credential attached afterwards."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    entity_type = models.CharField(
        max_length=32, choices=EntityType.choices, default=EntityType.BILL
    )
    destination = models.CharField(max_length=32, choices=Destination.choices)
    # Global Configuration: m3ter account ids; both empty means every account.
    account_ids = models.JSONField(default=list, blank=True)
    restricted_account_ids = models.JSONField(default=list, blank=True)
    # Entity Configuration
    only_send_bill_on_approval = models.BooleanField(default=False)
    use_external_mapping_account_code = models.BooleanField(default=False)
    excluded_line_item_types = models.JSONField(default=list, blank=True)
    sort_line_items_by = models.CharField(
        max_length=32, choices=SortLineItemsBy.choices, default=SortLineItemsBy.NONE
    )
    account_filter = models.TextField(blank=True)

    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    credential = models.ForeignKey(
        "credentials.IntegrationCredential",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrations",
    )
    users_to_notify = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="E-mailed when the integration disables itself (for example, a revoked key).",
    )
    consecutive_auth_failures = models.PositiveIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = user_field()
    updated_by = user_field()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["entity_type", "enabled"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(destination__in=Destination.values),
                name="integration_destination_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(sort_line_items_by__in=SortLineItemsBy.values),
                name="integration_sort_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def connected(self) -> bool:
        return self.credential_id is not None


class IntegrationEventName(models.TextChoices):
    """m3ter's integration error events (its console's Integrations › Integration events)."""

    VALIDATION = "integration.validation.error", "Validation error"
    MISSING_ACCOUNT_MAPPING = "integration.missingaccountmapping.error", "Missing account mapping"
    AUTHENTICATION = "integration.authentication.error", "Authentication error"
    PERFORM = "integration.perform.error", "Perform error"
    DISABLED = "integration.disabled.error", "Integration disabled"


class IntegrationEventState(models.TextChoices):
    NOT_ACTIONED = "NOT_ACTIONED", "Not actioned"
    ACTIONED = "ACTIONED", "Actioned"


class IntegrationEvent(models.Model):
    """Something about an integration a person has to follow up. One open event per integration,
    event name and bill: a bill failing again (a retry, a resend) counts another occurrence on
    the open event rather than making a new one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, choices=IntegrationEventName.choices)
    state = models.CharField(
        max_length=16,
        choices=IntegrationEventState.choices,
        default=IntegrationEventState.NOT_ACTIONED,
    )
    integration = models.ForeignKey(
        IntegrationConfiguration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    # Kept so the event stays readable after its integration is deleted.
    integration_name = models.CharField(max_length=200)
    run = models.ForeignKey(
        "runs.IntegrationRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The latest run this event was raised for.",
    )
    entity_type = models.CharField(max_length=32, choices=EntityType.choices, blank=True)
    entity_id = models.CharField(max_length=64, blank=True, help_text="The bill's m3ter id.")
    account_m3ter_id = models.CharField(max_length=64, blank=True)
    message = models.TextField()
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_occurred_at = models.DateTimeField()
    dt_actioned = models.DateTimeField(null=True, blank=True)
    actioned_by = user_field()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(name__in=IntegrationEventName.values),
                name="integration_event_name_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=IntegrationEventState.values),
                name="integration_event_state_valid",
            ),
            models.UniqueConstraint(
                fields=["integration", "name", "entity_id"],
                condition=models.Q(state="NOT_ACTIONED"),
                name="integration_event_one_open_per_bill",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.integration_name})"
