"""m3ter's accounts and bills ↔ the m3ter mirror."""

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import CommaListField, QueryBooleanField, choice_field
from api.serializers.deliveries import PaddleInvoiceSerializer
from m3terdata.export import account_as_m3ter, bill_as_m3ter
from m3terdata.models import LINE_ITEM_REFERENCE_IDS, BillingFrequency, BillStatus, LineItemType

# Requests are read by m3terdata.parsing and answers written by m3terdata.export, so the API, the
# import and the pull share one reading of m3ter's shape; these classes document it.


# The largest values the database columns hold (PositiveIntegerField, PositiveBigIntegerField).
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
# Bill amounts are DecimalField(max_digits=24, decimal_places=10): 14 digits before the point.
MAX_AMOUNT = Decimal(10) ** 14


def optional(field_class, **kwargs):
    """A field m3ter may leave out or send as null (m3ter's records are sparse)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    if issubclass(field_class, serializers.CharField):
        kwargs.setdefault("allow_blank", True)
    return field_class(**kwargs)


@extend_schema_field({"type": "number"})
class AmountField(serializers.Field):
    """A JSON number (m3ter's doubles, many decimals included) the amount columns can hold;
    digits past the tenth decimal are rounded when stored."""

    default_error_messages = {
        "invalid": "Expected a number.",
        "too_large": f"Must be less than {MAX_AMOUNT:,} in size.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        try:
            number = Decimal(str(data))
        except InvalidOperation:
            self.fail("invalid")
        if not number.is_finite():
            self.fail("invalid")
        if abs(number) >= MAX_AMOUNT:
            self.fail("too_large")
        return number

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}]})
class CustomFieldValue(serializers.Field):
    default_error_messages = {"invalid": "A custom field value is a string or a number."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return serializers.CharField(allow_blank=True).run_validation(data)
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class AddressSerializer(serializers.Serializer):
    addressLine1 = optional(serializers.CharField, max_length=200)
    addressLine2 = optional(serializers.CharField, max_length=200)
    addressLine3 = optional(serializers.CharField, max_length=200)
    addressLine4 = optional(serializers.CharField, max_length=200)
    locality = optional(serializers.CharField, max_length=200)
    region = optional(serializers.CharField, max_length=200)
    postCode = optional(serializers.CharField, max_length=50)
    country = optional(serializers.CharField, max_length=100)


class M3terRecordSerializer(serializers.Serializer):
    """An m3ter record mirrored as m3ter sends it (an account, a bill): its id and version first;
    a subclass names its `as_m3ter` converter and declares `dtLastModified` last, where the schema
    lists it."""

    as_m3ter: Callable[[Any], dict]

    id = optional(serializers.CharField, max_length=64, allow_blank=False)
    version = optional(
        serializers.IntegerField,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="m3ter's version; an older one is refused.",
    )

    dtCreated = serializers.DateTimeField(source="created_at", read_only=True)
    createdBy = optional(
        serializers.CharField, max_length=200, help_text="Set by the hub on API writes."
    )
    lastModifiedBy = optional(
        serializers.CharField, max_length=200, help_text="Set by the hub on API writes."
    )

    def to_representation(self, record):
        return {
            **self.as_m3ter(record),
            "dtLastModified": self.fields["dtLastModified"].to_representation(record.updated_at),
        }


class AccountSerializer(M3terRecordSerializer):
    """m3ter's Account. On create, `id` may be given (the account's id in m3ter) or is made up.
    The body is checked here for shape and limits, then read by m3terdata.parsing like an
    imported record."""

    code = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200)
    emailAddress = optional(serializers.EmailField, max_length=254)
    currency = optional(serializers.RegexField, regex=r"^[A-Za-z]{3}$", max_length=3)
    customFields = optional(serializers.DictField, child=CustomFieldValue())
    address = AddressSerializer(required=False, allow_null=True)
    parentAccountId = optional(serializers.CharField, max_length=64)
    purchaseOrderNumber = optional(serializers.CharField, max_length=100)
    daysBeforeBillDue = optional(serializers.IntegerField, min_value=0, max_value=MAX_INT)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)

    as_m3ter = staticmethod(account_as_m3ter)


class LineItemSerializer(serializers.Serializer):
    id = optional(serializers.CharField, max_length=64)
    lineItemType = choice_field(LineItemType)
    description = optional(serializers.CharField, max_length=500)
    quantity = optional(AmountField)
    units = optional(AmountField)
    unit = optional(serializers.CharField, max_length=100)
    subtotal = AmountField()
    aggregationId = optional(serializers.CharField, max_length=64)
    productId = optional(serializers.CharField, max_length=64)
    productName = optional(serializers.CharField, max_length=200)
    productCode = optional(serializers.CharField, max_length=200)
    servicePeriodStartDate = optional(serializers.DateTimeField)
    servicePeriodEndDate = optional(serializers.DateTimeField)
    sequenceNumber = optional(serializers.IntegerField, min_value=0, max_value=MAX_INT)
    currency = optional(
        serializers.RegexField,
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text="Answered always; the bill's currency when left out.",
    )
    conversionRate = optional(AmountField, help_text="Answered always; 1 when left out.")
    convertedSubtotal = optional(
        AmountField, help_text="Answered always; the subtotal when left out."
    )
    averageUnitPrice = optional(
        AmountField, help_text="Answered always; subtotal / quantity when left out."
    )
    locals().update(
        {key: optional(serializers.CharField, max_length=64) for key, _ in LINE_ITEM_REFERENCE_IDS}
    )


class BillSerializer(M3terRecordSerializer):
    """m3ter's Bill with its line items. Writing one is a bill event: every integration that
    selects it gets a run. Checked here for shape and limits, then read by m3terdata.parsing."""

    accountId = serializers.CharField(max_length=64)
    accountCode = serializers.CharField(read_only=True)
    status = choice_field(BillStatus, required=False, allow_null=True)
    locked = optional(serializers.BooleanField)
    billDate = optional(serializers.DateField)
    dueDate = optional(serializers.DateField)
    startDate = optional(serializers.DateField)
    endDate = optional(serializers.DateField)
    currency = serializers.RegexField(regex=r"^[A-Za-z]{3}$", max_length=3)
    billTotal = optional(
        AmountField,
        help_text="Answered always; the sum of the line items' subtotals when left out.",
    )
    billingFrequency = choice_field(BillingFrequency, required=False, allow_null=True)
    billJobId = optional(serializers.CharField, max_length=64)
    purchaseOrderNumber = optional(serializers.CharField, max_length=100)
    sequentialInvoiceNumber = optional(serializers.CharField, max_length=100)
    lastCalculatedDate = optional(serializers.DateTimeField)
    dtApproved = optional(serializers.DateTimeField)
    lineItems = LineItemSerializer(many=True, required=False, allow_null=True)
    paddleInvoices = PaddleInvoiceSerializer(
        many=True,
        read_only=True,
        help_text="The hub's addition: the bill's Paddle transaction for each integration it was "
        "delivered to, with the invoice's status, number and times. Answered to those who may "
        "view deliveries (runs.view_delivery), left out for others.",
    )
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)

    as_m3ter = staticmethod(bill_as_m3ter)
    # Left out of some answers, so not required in the schema (api.schema reads this).
    answered_to_some = ("paddleInvoices",)

    def to_representation(self, record):
        answer = super().to_representation(record)
        if self.context.get("exclude_line_items"):
            del answer["lineItems"]
        answer.update(paddle_invoices_answer(self.context, record))
        return answer


def paddle_invoices_answer(context: dict, bill) -> dict:
    """`{"paddleInvoices": [...]}` from the deliveries the view read for the caller in
    `context["paddle_invoices"]` (bill id → deliveries); nothing when it read none for them."""
    invoices = context.get("paddle_invoices")
    if invoices is None:
        return {}
    found = invoices.get(bill.m3ter_id, [])
    return {"paddleInvoices": PaddleInvoiceSerializer(found, many=True).data}


class AccountFilter(serializers.Serializer):
    ids = CommaListField(required=False)
    codes = CommaListField(required=False)


class BillFilter(serializers.Serializer):
    accountId = serializers.CharField(required=False)
    status = choice_field(BillStatus, required=False)
    locked = QueryBooleanField(
        help_text="m3ter's meaning: false leaves locked bills out; true keeps them."
    )
    excludeLineItems = QueryBooleanField(help_text="Answer the bills without their lineItems.")
    billingFrequency = choice_field(BillingFrequency, required=False)
    ids = CommaListField(required=False)
    billJobId = serializers.CharField(required=False)
    billDate = serializers.DateField(required=False)
    billDateStart = serializers.DateField(required=False, help_text="Bills dated on or after.")
    billDateEnd = serializers.DateField(required=False, help_text="Bills dated before.")
