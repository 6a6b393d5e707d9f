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
