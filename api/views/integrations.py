"""Integration configurations: m3ter's /integrationconfigs."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import field_errors
from api.serializers.integrations import (
    INTEGRATION_FIELD_PATHS,
    IntegrationConfigCreateSerializer,
    IntegrationConfigEntityFilter,
    IntegrationConfigFilter,
    IntegrationConfigRequestSerializer,
    IntegrationConfigResponseSerializer,
)
from api.views.common import ORG_ID, OrganizationView, find, validated
from credentials.selectors import credential_get
from integrations.selectors import integration_for_entity, integration_get, integration_records
from integrations.services import (
    KEEP,
    integration_create,
    integration_delete,
    integration_disable,
    integration_enable,
    integration_replace,
)

NOT_STORED = ("integrationCredentialsId", "version", "entityId", "destinationId", "credentials")


def _integration_values(data: dict):
    """The service's values and the credential to attach (None detaches, KEEP leaves it)."""
    values = {key: value for key, value in data.items() if key not in NOT_STORED}
    if "integrationCredentialsId" not in data:
        return values, KEEP
    credential_id = data["integrationCredentialsId"]
    if credential_id is None:
        return values, None
    credential = credential_get(credential_id=credential_id)
    if credential is None:
        raise exceptions.ValidationError(
            {
                "integrationCredentialsId": [
                    f"No credential with id {credential_id}; list them with "
                    "GET /organizations/{orgId}/integrationcredentials."
                ]
            }
        )
    return values, credential


def _integration(integration_id):
    return find("integration", integration_id, integration_get, integration_id=integration_id)


class IntegrationView(OrganizationView):
    # The model the permissions are about; reads go through integrations.selectors.
    queryset = integration_records()
    serializer_class = IntegrationConfigResponseSerializer


@extend_schema(tags=["Integrations"], parameters=[ORG_ID])
class IntegrationConfigListView(IntegrationView):
    paged = True

    @extend_schema(
        operation_id="GetIntegrationConfigs",
        summary="List integration configurations",
        parameters=[IntegrationConfigFilter],
    )
    def get(self, request, orgId):
        filters = validated(IntegrationConfigFilter, request.query_params)
        return self.page(integration_records(credential_id=filters.get("destinationId")))

    @extend_schema(
        operation_id="PostIntegrationConfig",
        summary="Create an integration configuration",
        request=IntegrationConfigCreateSerializer,
    )
    def post(self, request, orgId):
        data = validated(IntegrationConfigCreateSerializer, request.data)
        values, credential = _integration_values(data)
        if credential is not KEEP:
            values["credential"] = credential
        try:
            integration = integration_create(values=values, user=request.user)
        except DjangoValidationError as error:
            raise field_errors(error, INTEGRATION_FIELD_PATHS) from None
        return Response(self.get_serializer(integration).data)


@extend_schema(tags=["Integrations"], parameters=[ORG_ID])
class IntegrationConfigDetailView(IntegrationView):
    @extend_schema(operation_id="GetIntegrationConfig", summary="Get an integration configuration")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(_integration(id)).data)

    @extend_schema(
        operation_id="UpdateIntegrationConfig",
        summary="Update an integration configuration",
        description=(
            "Send the `version` you read: a configuration changed since is refused with 409. "
            "Fields left out keep their values; a `configData` sent replaces every option (those "
            "left out go back to their defaults); `integrationCredentialsId: null` detaches the "
            "credential."
        ),
        request=IntegrationConfigRequestSerializer,
        responses={200: IntegrationConfigResponseSerializer},
    )
    def put(self, request, orgId, id):
        integration = _integration(id)
        data = validated(IntegrationConfigRequestSerializer, request.data)
        if "version" not in data:
            raise exceptions.ValidationError(
                {
                    "version": [
                        "Required on update: send the version you last read, so that a change "
                        "made since then is not overwritten."
                    ]
                }
            )
        values, credential = _integration_values(data)
        try:
            integration = integration_replace(
                integration=integration,
                values=values,
                expected_version=data["version"],
                credential=credential,
                user=request.user,
            )
        except DjangoValidationError as error:
            raise field_errors(error, INTEGRATION_FIELD_PATHS) from None
        return Response(self.get_serializer(integration).data)

    @extend_schema(
        operation_id="DeleteIntegrationConfig",
        summary="Delete an integration configuration (its runs stay)",
    )
    def delete(self, request, orgId, id):
        integration = _integration(id)
        answer = self.get_serializer(integration).data
        integration_delete(integration=integration)
        return Response(answer)


class IntegrationSwitchView(IntegrationView):
    action_permissions = ["integrations.change_integrationconfiguration"]

    def switch(self, integration, user):
        raise NotImplementedError

    def post(self, request, orgId, id):
        return Response(self.get_serializer(self.switch(_integration(id), request.user)).data)


@extend_schema(tags=["Integrations"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="EnableIntegrationConfig",
        summary="Enable an integration configuration",
    )
)
class IntegrationEnableView(IntegrationSwitchView):
    def switch(self, integration, user):
        return integration_enable(integration=integration, user=user)


@extend_schema(tags=["Integrations"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="DisableIntegrationConfig",
        summary="Disable an integration configuration (the hub's counterpart of enable)",
    )
)
class IntegrationDisableView(IntegrationSwitchView):
    def switch(self, integration, user):
        return integration_disable(
            integration=integration, user=user, reason=f"Disabled through the API by {user}."
        )


@extend_schema(tags=["Integrations"], parameters=[ORG_ID])
class IntegrationConfigEntityView(IntegrationView):
    @extend_schema(
        operation_id="GetIntegrationConfigForType",
        summary="Get the integration configuration for an entity type",
        description="One configuration, as m3ter's spec and SDK expect: of those for the entity "
        "type (and the destination or credential asked for), the enabled one changed last. "
        "404 when there is none.",
        parameters=[IntegrationConfigEntityFilter],
    )
    def get(self, request, orgId, entityType):
        filters = validated(IntegrationConfigEntityFilter, request.query_params)
        integration = integration_for_entity(
            entity_type=entityType,
            destination=filters.get("destination"),
            credential_id=filters.get("destinationId"),
        )
        if integration is None:
            raise exceptions.NotFound(f"No integration configuration for {entityType}.")
        return Response(self.get_serializer(integration).data)
