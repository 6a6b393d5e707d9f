"""m3ter's /events: the integration events, with the hub's addition of marking one actioned."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response

from api.exceptions import Conflict
from api.serializers.events import (
    INTEGRATION_EVENT_TYPE,
    EventFilter,
    EventSerializer,
    EventTypesSerializer,
)
from api.views.common import ORG_ID, OrganizationView, find, validated
from integrations.events import integration_event_action
from integrations.models import IntegrationEvent, IntegrationEventName
from integrations.selectors import integration_event_get, integration_events
from m3terpaddle.text import sentences


def _event(event_id):
    return find("event", event_id, integration_event_get, event_id=event_id)


class EventView(OrganizationView):
    # The model the permissions are about; reads go through the selectors.
    queryset = IntegrationEvent.objects.none()
    serializer_class = EventSerializer


@extend_schema(tags=["Events"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, EventFilter],
        operation_id="ListEvents",
        summary="List events (the hub raises integration events only)",
    )
)
class EventListView(EventView):
    paged = True

    def get(self, request, orgId):
        filters = validated(EventFilter, request.query_params)
        events = integration_events(
            include_actioned=filters["includeActioned"] or bool(filters.get("ids")),
            name=filters.get("eventName"),
        )
        if filters.get("eventType", INTEGRATION_EVENT_TYPE) != INTEGRATION_EVENT_TYPE:
            events = events.none()
        if filters.get("ids"):
            events = events.filter(pk__in=_uuids(filters["ids"]))
        if filters.get("accountId"):
            events = events.filter(account_m3ter_id=filters["accountId"])
        if filters.get("resourceId"):
            resource = filters["resourceId"]
            events = events.filter(Q(entity_id=resource) | Q(integration_id__in=_uuids([resource])))
        return self.page(events)


def _uuids(values) -> list:
    """Those values that can be an event's or integration's id (a UUID); others match nothing."""
    field = IntegrationEvent._meta.pk
    found = []
    for value in values:
        try:
            found.append(field.to_python(value))
        except DjangoValidationError:
            continue
    return found


@extend_schema(tags=["Events"], parameters=[ORG_ID])
class EventTypesView(EventView):
    pagination_class = None

    @extend_schema(
        operation_id="ListEventTypes",
        summary="List the event types (those the hub raises)",
        responses={200: EventTypesSerializer},
    )
    def get(self, request, orgId):
        return Response({"events": list(IntegrationEventName.values)})


@extend_schema(tags=["Events"], parameters=[ORG_ID])
class EventDetailView(EventView):
    @extend_schema(operation_id="GetEvent", summary="Get an event")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(_event(id)).data)


@extend_schema(tags=["Events"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="ActionEvent",
        summary="Mark an event actioned (the hub's addition; m3ter's console does it)",
    )
)
class EventActionView(EventView):
    action_permissions = ["integrations.change_integrationevent"]

    def post(self, request, orgId, id):
        event = _event(id)
        try:
            event = integration_event_action(event=event, user=request.user)
        except DjangoValidationError as error:
            raise Conflict(sentences(*error.messages)) from None
        return Response(self.get_serializer(event).data)
