"""External mappings: m3ter's /externalmappings."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import Conflict
from api.serializers.external_mappings import ExternalMappingFilter, ExternalMappingSerializer
from api.views.common import ORG_ID, OrganizationView, find, validated
from integrations.rules import integration_exists
from integrations.services import VersionConflict
from m3terdata.selectors import external_mapping_get, external_mapping_records
from m3terdata.services import (
    MirrorVersionConflict,
    external_mapping_create,
    external_mapping_delete,
    external_mapping_update,
)
from m3terpaddle.text import sentences


def _mapping_values(data: dict) -> dict:
    # The mirror does not know integrations, so the id is checked here.
    integration_id = data.get("integration_id")
    if integration_id and not integration_exists(integration_id=integration_id):
        raise exceptions.ValidationError(
            {"integrationConfigId": [f"No integration with id {integration_id}."]}
        )
    return dict(data)


def _mapping_conflict(error: DjangoValidationError) -> exceptions.APIException:
    """A duplicate mapping is a conflict with what is stored, not a malformed request."""
    return Conflict(sentences(*error.messages))


def _mapping(mapping_id):
    return find("external mapping", mapping_id, external_mapping_get, mapping_id=mapping_id)


class ExternalMappingView(OrganizationView):
    # The model the permissions are about; reads go through m3terdata.selectors.
    queryset = external_mapping_records()
    serializer_class = ExternalMappingSerializer


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingListView(ExternalMappingView):
    paged = True

    @extend_schema(
        operation_id="ListExternalMappings",
        summary="List external mappings",
        parameters=[ExternalMappingFilter],
    )
    def get(self, request, orgId):
        filters = validated(ExternalMappingFilter, request.query_params)
        return self.page(
            external_mapping_records(
                external_system=filters.get("externalSystemId"),
                m3ter_ids=filters.get("m3terIds"),
                integration_id=filters.get("integrationConfigId"),
            )
        )

    @extend_schema(operation_id="CreateExternalMapping", summary="Create an external mapping")
    def post(self, request, orgId):
        values = _mapping_values(validated(ExternalMappingSerializer, request.data))
        values["created_by"] = values["last_modified_by"] = request.user.get_username()
        try:
            mapping = external_mapping_create(values=values)
        except DjangoValidationError as error:
            raise _mapping_conflict(error) from None
        return Response(self.get_serializer(mapping).data)


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingDetailView(ExternalMappingView):
    @extend_schema(operation_id="GetExternalMapping", summary="Get an external mapping")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(_mapping(id)).data)

    @extend_schema(
        operation_id="UpdateExternalMapping",
        summary="Update an external mapping",
        description="Send the `version` you read: a mapping changed since is refused with 409.",
    )
    def put(self, request, orgId, id):
        mapping = _mapping(id)
        values = _mapping_values(validated(ExternalMappingSerializer, request.data))
        if "version" not in values:
            raise exceptions.ValidationError(
                {"version": ["Required on update: send the version you last read."]}
            )
        values["last_modified_by"] = request.user.get_username()
        try:
            mapping = external_mapping_update(
                mapping=mapping, values=values, expected_version=values["version"]
            )
        except MirrorVersionConflict as stale:
            # The API answers every stale version alike (a 409 with the same words).
            raise VersionConflict(current_version=stale.current_version) from None
        except DjangoValidationError as error:
            raise _mapping_conflict(error) from None
        return Response(self.get_serializer(mapping).data)

    @extend_schema(operation_id="DeleteExternalMapping", summary="Delete an external mapping")
    def delete(self, request, orgId, id):
        mapping = _mapping(id)
        answer = self.get_serializer(mapping).data
        external_mapping_delete(mapping=mapping)
        return Response(answer)


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingsForM3terEntityView(ExternalMappingView):
    paged = True

    @extend_schema(
        operation_id="ListExternalMappingsForM3terEntity",
        summary="List the external mappings of an m3ter entity",
    )
    def get(self, request, orgId, entity, m3terId):
        return self.page(external_mapping_records(m3ter_entity=entity, m3ter_id=m3terId))


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingsForExternalEntityView(ExternalMappingView):
    paged = True

    @extend_schema(
        operation_id="ListExternalMappingsForExternalSystemAndEntity",
        summary="List the external mappings of an entity in an external system",
    )
    def get(self, request, orgId, system, externalTable, externalId):
        return self.page(
            external_mapping_records(
                external_system=system, external_table=externalTable, external_id=externalId
            )
        )
