"""The hub's Paddle invoices by status: which m3ter bills were invoiced, paid, overdue or
canceled (not in m3ter's API)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from api.serializers.deliveries import DeliveryFilter, DeliverySerializer
from api.views.common import ORG_ID, OrganizationView, validated
from runs.selectors import deliveries_by_invoice_status


@extend_schema(tags=["PaddleInvoices"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, DeliveryFilter],
        operation_id="ListPaddleInvoices",
        summary="List the bills' Paddle invoices, by invoice status (the hub's addition)",
    )
)
class DeliveryListView(OrganizationView):
    paged = True

    queryset = deliveries_by_invoice_status()
    serializer_class = DeliverySerializer

    def get(self, request, orgId):
        filters = validated(DeliveryFilter, request.query_params)
        status = filters.get("invoiceStatus")
        return self.page(
            deliveries_by_invoice_status(
                invoice_status="" if status == "NONE" else status,
                bill_id=filters.get("billId"),
                integration_id=filters.get("integrationConfigId"),
            )
        )
