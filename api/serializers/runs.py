"""m3ter's integration runs and their logs ↔ IntegrationRun and RunLogEntry."""

import base64
import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import CommaListField, choice_field
from credentials.models import Destination
from runs.models import InvoiceStatus, RunStatus


class IntegrationRunSerializer(serializers.Serializer):
    """m3ter's IntegrationRunResponse, plus the hub's detail (trigger, replay origin, hint)."""

    id = serializers.UUIDField()
    entityType = serializers.CharField(source="entity_type")
    entityId = serializers.CharField(source="entity_id")
    destination = serializers.CharField()
    destinationId = serializers.CharField(source="destination_id")
    status = serializers.ChoiceField(choices=RunStatus.choices)
    dtStarted = serializers.DateTimeField(source="dt_started", allow_null=True)
    dtCompleted = serializers.DateTimeField(source="dt_completed", allow_null=True)
    error = serializers.CharField()
    errorHint = serializers.CharField(source="error_hint", help_text="What to do about the error.")
    url = serializers.CharField(help_text="The draft invoice in Paddle's dashboard.")
    totalNote = serializers.CharField(
        source="total_note",
        help_text="Set when the Paddle invoice's total before tax differs from the bill's: both "
        "totals, the difference and its cause (e.g. excluded line item types).",
    )
    externalId = serializers.CharField(source="external_id", help_text="The Paddle transaction id.")
    parentIntegrationRunId = serializers.UUIDField(source="parent_id", allow_null=True)
    replayedFromIntegrationRunId = serializers.UUIDField(
        source="replayed_from_id", allow_null=True, help_text="The run this one replays."
    )
    integrationConfigId = serializers.UUIDField(source="integration_id", allow_null=True)
    integrationName = serializers.CharField(source="integration_name")
    trigger = serializers.CharField()
    billVersion = serializers.IntegerField(source="bill_version", allow_null=True)
    attemptCount = serializers.IntegerField(source="attempt_count")
    dtNextAttempt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    dtCreated = serializers.DateTimeField(source="created_at")
    dtLastModified = serializers.DateTimeField(source="updated_at")
    # The invoice's life in Paddle after the draft (the bill's delivery for this integration).
    invoiceStatus = serializers.ChoiceField(
        source="invoice_status",
        choices=[*InvoiceStatus.choices, ("", "Not heard of yet")],
        default="",
        help_text="The Paddle transaction's status as last heard (webhook or reconciliation).",
    )
    invoiceNumber = serializers.CharField(source="invoice_number", default="")
    dtInvoiceIssued = serializers.DateTimeField(source="issued_at", default=None, allow_null=True)
    dtInvoicePaid = serializers.DateTimeField(source="paid_at", default=None, allow_null=True)
    dtInvoiceCanceled = serializers.DateTimeField(
        source="canceled_at", default=None, allow_null=True
    )


class RunLogEntrySerializer(serializers.Serializer):
    dtCreated = serializers.DateTimeField(source="created_at")
    level = serializers.CharField()
    message = serializers.CharField()
    data = serializers.JSONField()


class IntegrationRunLogSerializer(serializers.Serializer):
    """m3ter's IntegrationRunLogResponse (the log as base64 text in Payload) and the entries."""

    Payload = serializers.SerializerMethodField(help_text="The log as text, base64-encoded.")
    entries = RunLogEntrySerializer(many=True, source="*")

    @extend_schema_field(OpenApiTypes.STR)
    def get_Payload(self, entries):
        text = "".join(
            f"{entry.created_at.isoformat()} {entry.level} {entry.message}\n" for entry in entries
        )
        return base64.b64encode(text.encode()).decode()


class MomentField(serializers.DateTimeField):
    """A date-time, or a date meaning its start (UTC)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) == 10:
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        return super().to_internal_value(value)


class IntegrationRunFilter(serializers.Serializer):
    status = choice_field(RunStatus, required=False)
    startDate = MomentField(required=False, help_text="Runs created at or after this time.")
    endDate = MomentField(required=False, help_text="Runs created before this time.")
    order = serializers.ChoiceField(
        choices=["ASC", "DESC"], required=False, help_text="Oldest or (default) newest first."
    )


class IntegrationRunListFilter(IntegrationRunFilter):
    entityType = serializers.CharField(required=False)
    entityId = serializers.CharField(required=False)
    integrationConfigId = serializers.UUIDField(required=False)
    destinationId = serializers.CharField(required=False)


class IntegrationRunDestinationFilter(IntegrationRunFilter):
    destination = choice_field(Destination, required=False)


class LatestRunsFilter(serializers.Serializer):
    ids = CommaListField(
        min_length=1, help_text="The entity ids (bill ids) to get the latest run of."
    )
