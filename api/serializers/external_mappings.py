"""m3ter's external mappings ↔ ExternalMapping."""

from rest_framework import serializers

from api.serializers.common import CommaListField


class ExternalMappingSerializer(serializers.Serializer):
    """m3ter's ExternalMappingRequest and ExternalMappingResponse."""

    id = serializers.UUIDField(read_only=True)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Required on update: the version you read."
    )
    m3terEntity = serializers.CharField(source="m3ter_entity", max_length=64)
    m3terId = serializers.CharField(source="m3ter_id", max_length=64)
    externalSystem = serializers.CharField(source="external_system", max_length=64)
    externalTable = serializers.CharField(source="external_table", max_length=64)
    externalId = serializers.CharField(source="external_id", max_length=200)
    integrationConfigId = serializers.UUIDField(
        source="integration_id", required=False, allow_null=True
    )
    dtCreated = serializers.DateTimeField(source="created_at", read_only=True)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)
    createdBy = serializers.CharField(source="created_by", read_only=True)
    lastModifiedBy = serializers.CharField(source="last_modified_by", read_only=True)


class ExternalMappingFilter(serializers.Serializer):
    externalSystemId = serializers.CharField(
        required=False, help_text="Only mappings to this external system, e.g. Paddle."
    )
    m3terIds = CommaListField(required=False)
    integrationConfigId = serializers.UUIDField(required=False)
