"""m3ter's Events (the integration events among them) ↔ IntegrationEvent."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import CommaListField
from integrations.models import IntegrationEventName

# m3ter's eventType of every event the hub raises.
INTEGRATION_EVENT_TYPE = "IntegrationEvent"


class EventSerializer(serializers.Serializer):
    """m3ter's EventResponse; m3terEvent carries what the hub knows of the integration event."""

    id = serializers.UUIDField()
    eventName = serializers.CharField(source="name")
    eventTime = serializers.DateTimeField(source="created_at")
    dtActioned = serializers.DateTimeField(source="dt_actioned", allow_null=True)
    m3terEvent = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_m3terEvent(self, event):
        return {
            "eventType": INTEGRATION_EVENT_TYPE,
            "eventData": {
                "integrationConfigId": event.integration_id and str(event.integration_id),
                "integrationName": event.integration_name,
                "integrationRunId": event.run_id and str(event.run_id),
                "entityType": event.entity_type,
                "entityId": event.entity_id,
                "accountId": event.account_m3ter_id,
                "message": event.message,
                "occurrences": event.occurrences,
                "dtLastOccurred": serializers.DateTimeField().to_representation(
                    event.last_occurred_at
                ),
                "actioned": event.dt_actioned is not None,
            },
        }


class EventFilter(serializers.Serializer):
    ids = CommaListField(required=False)
    eventName = serializers.ChoiceField(
        choices=IntegrationEventName.values,
        required=False,
        error_messages={
            "invalid_choice": '"{input}" is not an event this hub raises; use one of: '
            + ", ".join(IntegrationEventName.values)
            + "."
        },
    )
    eventType = serializers.CharField(required=False)
    includeActioned = serializers.BooleanField(required=False, default=False)
    accountId = serializers.CharField(required=False)
    resourceId = serializers.CharField(
        required=False, help_text="The bill (entity) or integration the event is about."
    )


class EventTypesSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.CharField())
