"""POST …/bills/{id}/preview?integrationConfigId=…: Preview in Paddle through the API — Paddle's
own items, discount, tax and total for the invoice the integration would make of the bill,
nothing created (the same service as the bill page's button)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.views.accounts_bills import BillView
from api.views.common import ORG_ID, find
from integrations.selectors import integration_get
from m3terdata.selectors import bill_get
from paddle_destination.errors import PaddleProblem, PaddleProblemKind
from paddle_destination.preview import invoice_preview


class PaddleRefused(exceptions.APIException):
    """The bill cannot become a Paddle invoice as it stands, or Paddle refused its preview."""

    status_code = 422
    default_code = "unprocessable"


class PaddleUnavailable(exceptions.APIException):
    """Paddle could not be asked: the credential, the network or Paddle itself."""

    status_code = 502
    default_code = "paddle_unavailable"


class PaddleBusy(exceptions.Throttled):
    default_code = "paddle_rate_limited"


# What the bill or its configuration must change: 422. Paddle's limit: 429. The rest is
# between the hub and Paddle: 502.
_STATUS = {
    PaddleProblemKind.UNSUPPORTED_BILL: PaddleRefused,
    PaddleProblemKind.MISSING_MAPPING: PaddleRefused,
    PaddleProblemKind.INVALID_REQUEST: PaddleRefused,
}


class PreviewLineSerializer(serializers.Serializer):
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    taxRate = serializers.CharField(source="tax_rate")
    subtotal = serializers.DecimalField(max_digits=20, decimal_places=2)
    discount = serializers.DecimalField(max_digits=20, decimal_places=2)
    tax = serializers.DecimalField(max_digits=20, decimal_places=2)
    total = serializers.DecimalField(max_digits=20, decimal_places=2)


class InvoicePreviewSerializer(serializers.Serializer):
    currency = serializers.CharField()
    lineItems = PreviewLineSerializer(source="lines", many=True)
    subtotal = serializers.DecimalField(max_digits=20, decimal_places=2)
    discount = serializers.DecimalField(max_digits=20, decimal_places=2)
    tax = serializers.DecimalField(max_digits=20, decimal_places=2)
    total = serializers.DecimalField(max_digits=20, decimal_places=2)
    customerId = serializers.CharField(source="customer_id", allow_null=True)
    addressId = serializers.CharField(source="address_id", allow_null=True)
    location = serializers.CharField(help_text="Whom Paddle computed the tax for.")
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="What a delivery would warn about."
    )


class PreviewQuery(serializers.Serializer):
    integrationConfigId = serializers.UUIDField(
        help_text="The integration whose invoice is previewed."
    )


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillPreviewView(BillView):
    serializer_class = InvoicePreviewSerializer
    action_permissions = ["m3terdata.view_bill"]

    @extend_schema(
        operation_id="PreviewBillInPaddle",
        summary="Preview a bill's invoice in Paddle (the hub's addition)",
        description="Paddle's POST /transactions/preview with exactly the items the hub would "
        "send: items, discount, tax and total as Paddle computes them. Nothing is created.",
        request=None,
        parameters=[
            OpenApiParameter(
                "integrationConfigId", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=True
            )
        ],
    )
    def post(self, request, orgId, id):
        query = PreviewQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        bill = bill_get(m3ter_id=id)
        if bill is None:
            raise exceptions.NotFound(f"No bill with id {id!r}.")
        integration_id = query.validated_data["integrationConfigId"]
        integration = find(
            "integration configuration",
            integration_id,
            integration_get,
            integration_id=integration_id,
        )
        try:
            preview = invoice_preview(integration=integration, bill=bill)
        except PaddleProblem as problem:
            said = problem.text
            if problem.kind == PaddleProblemKind.RATE_LIMITED:
                raise PaddleBusy(wait=problem.retry_after, detail=said) from problem
            raise _STATUS.get(problem.kind, PaddleUnavailable)(said) from problem
        return Response(self.get_serializer(preview).data)
