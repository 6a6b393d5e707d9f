"""The hub's Paddle invoices, one per bill and integration (runs.Delivery): not in m3ter's API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from paddle_destination.delivery import paddle_transaction_url
from runs.models import InvoiceStatus

_STATUS_CHOICES = [*InvoiceStatus.choices, ("", "Not heard of yet")]


class PaddleInvoiceSerializer(serializers.Serializer):
    """A bill's Paddle transaction for one integration and what became of it in Paddle."""

    integrationConfigId = serializers.UUIDField(source="integration_id")
    externalId = serializers.CharField(source="external_id", help_text="The Paddle transaction id.")
    url = serializers.SerializerMethodField(help_text="The transaction in Paddle's dashboard.")
    invoiceStatus = serializers.ChoiceField(source="invoice_status", choices=_STATUS_CHOICES)
    invoiceNumber = serializers.CharField(source="invoice_number")
    dtInvoiceIssued = serializers.DateTimeField(source="issued_at", allow_null=True)
    dtInvoicePaid = serializers.DateTimeField(source="paid_at", allow_null=True)
    dtInvoiceCanceled = serializers.DateTimeField(source="canceled_at", allow_null=True)
    dtStatusChanged = serializers.DateTimeField(
        source="invoice_status_at", allow_null=True, help_text="When Paddle made the change."
    )
    dtDelivered = serializers.DateTimeField(source="delivered_at", allow_null=True)

    @extend_schema_field(serializers.CharField())
    def get_url(self, delivery) -> str:
        return paddle_transaction_url(
            destination=delivery.integration.destination, transaction_id=delivery.external_id
        )


class DeliverySerializer(PaddleInvoiceSerializer):
    billId = serializers.CharField(source="bill_m3ter_id")


class DeliveryFilter(serializers.Serializer):
    invoiceStatus = serializers.ChoiceField(
        choices=[*InvoiceStatus.values, "NONE"],
        required=False,
        help_text="Only invoices in this status; NONE for those Paddle has said nothing of yet.",
    )
    billId = serializers.CharField(required=False, max_length=64)
    integrationConfigId = serializers.UUIDField(required=False)
