"""A mirror of the m3ter data the hub delivers: accounts, bills with their line items, and external
mappings. Each row is keyed by its m3ter id; the import, the API, the pull and the webhook all
upsert through `m3terdata.services`."""

import uuid

from django.db import models
from django.utils import timezone

# The ids of m3ter's BillLineItem the mirror keeps besides its own id, product and aggregation:
# (camelCase key, model field).
LINE_ITEM_REFERENCE_IDS = (
    ("accountingProductId", "accounting_product_id"),
    ("compoundAggregationId", "compound_aggregation_id"),
    ("counterId", "counter_id"),
    ("chargeId", "charge_id"),
    ("meterId", "meter_id"),
    ("planId", "plan_id"),
    ("planGroupId", "plan_group_id"),
    ("pricingId", "pricing_id"),
    ("commitmentId", "commitment_id"),
    ("balanceId", "balance_id"),
    ("contractId", "contract_id"),
    ("creditTypeId", "credit_type_id"),
    ("childAccountId", "child_account_id"),
    ("referencedBillId", "referenced_bill_id"),
    ("referencedLineItemId", "referenced_line_item_id"),
    ("reasonId", "reason_id"),
)


class M3terAudit(models.Model):
    """m3ter's audit fields as m3ter sent them (dtCreated, createdBy, lastModifiedBy), or as the
    hub's API wrote the record; dtLastModified is the hub's `updated_at`."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=200, blank=True)
    last_modified_by = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class LineItemType(models.TextChoices):
    STANDING_CHARGE = "STANDING_CHARGE", "Standing charge"
    USAGE = "USAGE", "Usage"
    COUNTER_RUNNING_TOTAL_CHARGE = "COUNTER_RUNNING_TOTAL_CHARGE", "Counter running total charge"
    COUNTER_ADJUSTMENT_DEBIT = "COUNTER_ADJUSTMENT_DEBIT", "Counter adjustment debit"
    COUNTER_ADJUSTMENT_CREDIT = "COUNTER_ADJUSTMENT_CREDIT", "Counter adjustment credit"
    USAGE_CREDIT = "USAGE_CREDIT", "Usage credit"
    MINIMUM_SPEND = "MINIMUM_SPEND", "Minimum spend"
    MINIMUM_SPEND_REFUND = "MINIMUM_SPEND_REFUND", "Minimum spend refund"
    CREDIT_DEDUCTION = "CREDIT_DEDUCTION", "Credit deduction"
    MANUAL_ADJUSTMENT = "MANUAL_ADJUSTMENT", "Manual adjustment"
    CREDIT_MEMO = "CREDIT_MEMO", "Credit memo"
    DEBIT_MEMO = "DEBIT_MEMO", "Debit memo"
    COMMITMENT_CONSUMED = "COMMITMENT_CONSUMED", "Commitment consumed"
    COMMITMENT_FEE = "COMMITMENT_FEE", "Commitment fee"
    OVERAGE_SURCHARGE = "OVERAGE_SURCHARGE", "Overage surcharge"
    OVERAGE_USAGE = "OVERAGE_USAGE", "Overage usage"
    BALANCE_CONSUMED = "BALANCE_CONSUMED", "Balance consumed"
    BALANCE_FEE = "BALANCE_FEE", "Balance fee"
    AD_HOC = "AD_HOC", "Ad hoc"


class BillStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"


class BillingFrequency(models.TextChoices):
    DAILY = "DAILY", "Daily"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"
    ANNUALLY = "ANNUALLY", "Annually"
    AD_HOC = "AD_HOC", "Ad hoc"
    MIXED = "MIXED", "Mixed"


class Account(M3terAudit):
    m3ter_id = models.CharField("m3ter id", max_length=64, unique=True)
    version = models.PositiveBigIntegerField(default=1)
    code = models.CharField(max_length=200, db_index=True)
    name = models.CharField(max_length=200, db_index=True)
    email = models.EmailField(max_length=254, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # m3ter's Address: addressLine1..4, locality, region, postCode, country (camelCase keys).
    address = models.JSONField(default=dict, blank=True)
    parent_account_id = models.CharField(max_length=64, blank=True)
    purchase_order_number = models.CharField(max_length=100, blank=True)
    days_before_bill_due = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Bill(M3terAudit):
    m3ter_id = models.CharField("m3ter id", max_length=64, unique=True)
    version = models.PositiveBigIntegerField(default=1)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="bills")
    status = models.CharField(max_length=16, choices=BillStatus.choices, default=BillStatus.PENDING)
    locked = models.BooleanField(default=False)
    bill_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    billing_frequency = models.CharField(
        max_length=16, choices=BillingFrequency.choices, blank=True
    )
    bill_job_id = models.CharField(max_length=64, blank=True, db_index=True)
    purchase_order_number = models.CharField(max_length=100, blank=True)
    sequential_invoice_number = models.CharField(max_length=100, blank=True)
    last_calculated_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # A digest of everything that reaches Paddle; a delivery is skipped when it has not changed.
    content_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-bill_date", "m3ter_id"]
        indexes = [models.Index(fields=["bill_date"]), models.Index(fields=["status"])]

    def __str__(self):
        return f"Bill {self.m3ter_id} v{self.version}"


class LineItem(models.Model):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="line_items")
    m3ter_id = models.CharField("m3ter id", max_length=64, blank=True)
    sequence = models.PositiveIntegerField(
        help_text="Position in m3ter's order (sequenceNumber, else the order received)."
    )
    line_item_type = models.CharField(max_length=40, choices=LineItemType.choices)
    description = models.CharField(max_length=500, blank=True)
    quantity = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    units = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    unit = models.CharField(max_length=100, blank=True)
    subtotal = models.DecimalField(max_digits=24, decimal_places=10)
    aggregation_id = models.CharField(max_length=64, blank=True)
    product_id = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=200, blank=True)
    product_code = models.CharField(max_length=200, blank=True)
    service_period_start = models.DateTimeField(null=True, blank=True)
    service_period_end = models.DateTimeField(null=True, blank=True)
    # m3ter's required amounts in the bill's currency; the import fills them when m3ter leaves
    # them out (the line's currency is the bill's, at rate 1).
    currency = models.CharField(max_length=3, blank=True)
    conversion_rate = models.DecimalField(max_digits=24, decimal_places=10, default=1)
    converted_subtotal = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    average_unit_price = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    locals().update(
        {
            field: models.CharField(max_length=64, blank=True)
            for _key, field in LINE_ITEM_REFERENCE_IDS
        }
    )

    class Meta:
        ordering = ["bill", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "sequence"], name="lineitem_unique_sequence")
        ]

    def __str__(self):
        return f"{self.get_line_item_type_display()}: {self.description or self.product_name}"


class ExternalMapping(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveBigIntegerField(default=1)
    m3ter_entity = models.CharField(max_length=64)
    m3ter_id = models.CharField("m3ter id", max_length=64)
    external_system = models.CharField(max_length=64)
    external_table = models.CharField(max_length=64)
    external_id = models.CharField(max_length=200)
    integration = models.ForeignKey(
        "integrations.IntegrationConfiguration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="external_mappings",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(max_length=200, blank=True)
    last_modified_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["m3ter_entity", "m3ter_id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "m3ter_entity",
                    "m3ter_id",
                    "external_system",
                    "external_table",
                    "integration",
                ],
                name="externalmapping_unique_per_integration",
            ),
            # NULL is distinct in a unique index, so mappings for every integration need their own.
            models.UniqueConstraint(
                fields=["m3ter_entity", "m3ter_id", "external_system", "external_table"],
                condition=models.Q(integration__isnull=True),
                name="externalmapping_unique_global",
            ),
        ]
        indexes = [
            models.Index(fields=["external_system", "external_table", "external_id"]),
        ]

    def __str__(self):
        return f"{self.m3ter_entity} {self.m3ter_id} → {self.external_system} {self.external_id}"
