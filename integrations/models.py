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


class TaxMode(models.TextChoices):
    """Whether the amounts sent are net of tax: Paddle's price `tax_mode`."""

    EXTERNAL = "EXTERNAL", "External: m3ter amounts exclude tax; Paddle adds tax on top"
    INTERNAL = "INTERNAL", "Internal: m3ter amounts include tax; Paddle takes tax out of them"
    ACCOUNT_SETTING = "ACCOUNT_SETTING", "Account setting: whatever the Paddle account says"


class TaxCategory(models.TextChoices):
    """Paddle's product tax categories; all but Standard need Paddle's approval first."""

    STANDARD = "standard", "Standard"
    SAAS = "saas", "Software as a service (SaaS)"
    DIGITAL_GOODS = "digital-goods", "Digital goods"
    EBOOKS = "ebooks", "E-books"
    IMPLEMENTATION_SERVICES = "implementation-services", "Implementation services"
    PROFESSIONAL_SERVICES = "professional-services", "Professional services"
    SOFTWARE_PROGRAMMING_SERVICES = "software-programming-services", "Software programming services"
    TRAINING_SERVICES = "training-services", "Training services"
    WEBSITE_HOSTING = "website-hosting", "Website hosting"


class NegativeLineItems(models.TextChoices):
    REFUSE = "REFUSE", "Refuse the bill (m3ter's behaviour)"
    CREDIT = "CREDIT", "Send them as one credit (a discount) on the invoice"


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
    # What the invoice in Paddle says and charges.
    tax_mode = models.CharField(max_length=16, choices=TaxMode.choices, default=TaxMode.EXTERNAL)
    tax_category = models.CharField(
        max_length=40, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    negative_line_items = models.CharField(
        max_length=16, choices=NegativeLineItems.choices, default=NegativeLineItems.REFUSE
    )
    # The account custom fields that hold a B2B buyer's business details.
    business_name_field = models.CharField(max_length=100, default="companyName", blank=True)
    tax_number_field = models.CharField(max_length=100, default="taxNumber", blank=True)
    company_number_field = models.CharField(max_length=100, default="companyNumber", blank=True)

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
            models.CheckConstraint(
                condition=models.Q(tax_mode__in=TaxMode.values), name="integration_tax_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(tax_category__in=TaxCategory.values),
                name="integration_tax_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(negative_line_items__in=NegativeLineItems.values),
                name="integration_negative_line_items_valid",
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
    """In capitals, as m3ter's console lists its events."""

    NOT_ACTIONED = "NOT_ACTIONED", "NOT ACTIONED"
    ACTIONED = "ACTIONED", "ACTIONED"


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
