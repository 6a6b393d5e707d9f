"""m3ter's integration configurations ↔ IntegrationConfiguration."""

import difflib

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import UsernameField, choice_field
from credentials.models import Destination
from integrations.models import (
    EntityType,
    NegativeLineItems,
    SortLineItemsBy,
    TaxCategory,
    TaxMode,
)
from integrations.selectors import integration_notification_usernames
from integrations.services import NAME_REQUIRED
from m3terdata.models import LineItemType

# More ids than any organisation has accounts to list by hand; an Account Filter says more.
MAX_ACCOUNT_IDS = 10_000


class NotificationUsersField(serializers.ListField):
    """Users by username; read from the integration's users_to_notify."""

    def to_representation(self, data):
        if hasattr(data, "all"):
            return integration_notification_usernames(integration=data.instance)
        return super().to_representation(data)


class ConfigDataSerializer(serializers.Serializer):
    """The options of the wizard's stage 3. A configData sent on update replaces all of them:
    options left out go back to their defaults.

    Adding an option is one field here (its `source` the model field): the answers, the schema,
    the unknown-option check and the error paths (INTEGRATION_FIELD_PATHS) all follow it."""

    accountIds = serializers.ListField(
        source="account_ids",
        child=serializers.CharField(max_length=64),
        max_length=MAX_ACCOUNT_IDS,
        default=list,
        help_text="m3ter account ids the integration is limited to; empty means every account.",
    )
    restrictedAccountIds = serializers.ListField(
        source="restricted_account_ids",
        child=serializers.CharField(max_length=64),
        max_length=MAX_ACCOUNT_IDS,
        default=list,
        help_text="m3ter account ids the integration never sends bills for.",
    )
    onlySendBillOnApproval = serializers.BooleanField(
        source="only_send_bill_on_approval", default=False
    )
    useExternalMappingAccountCode = serializers.BooleanField(
        source="use_external_mapping_account_code", default=False
    )
    excludedLineItemTypes = serializers.ListField(
        source="excluded_line_item_types", child=choice_field(LineItemType), default=list
    )
    sortLineItemsBy = choice_field(
        SortLineItemsBy, source="sort_line_items_by", default=SortLineItemsBy.NONE
    )
    accountFilter = serializers.CharField(
        source="account_filter",
        allow_blank=True,
        default="",
        help_text="m3ter's Account Filter, e.g. `address.country == US`; empty means no filter.",
    )
    taxMode = choice_field(
        TaxMode,
        source="tax_mode",
        default=TaxMode.EXTERNAL,
        help_text="EXTERNAL: m3ter's amounts exclude tax and Paddle adds it on top (the customer "
        "pays the bill's total plus tax). INTERNAL: they include tax; Paddle takes it out. "
        "ACCOUNT_SETTING: the Paddle account's own tax setting decides.",
    )
    taxCategory = choice_field(
        TaxCategory,
        source="tax_category",
        default=TaxCategory.STANDARD,
        help_text="Paddle's tax category for the items; categories other than standard need "
        "Paddle's approval. Lines of m3ter products mapped to a Paddle product use its own.",
    )
    negativeLineItems = choice_field(
        NegativeLineItems,
        source="negative_line_items",
        default=NegativeLineItems.REFUSE,
        help_text="REFUSE: a bill with negative lines is not sent (m3ter's behaviour). CREDIT: "
        "they become one discount, so the invoice before tax equals the bill.",
    )
    businessNameField = serializers.CharField(
        source="business_name_field",
        allow_blank=True,
        max_length=100,
        default="companyName",
        help_text="The account custom field with the buyer's company name; with it (or a tax "
        "number) the invoice goes to a Paddle business. Empty: none.",
    )
    taxNumberField = serializers.CharField(
        source="tax_number_field",
        allow_blank=True,
        max_length=100,
        default="taxNumber",
        help_text="The account custom field with the buyer's tax (VAT) number. Empty: none.",
    )
    companyNumberField = serializers.CharField(
        source="company_number_field",
        allow_blank=True,
        max_length=100,
        default="companyNumber",
        help_text="The account custom field with the buyer's company number. Empty: none.",
    )

    integrationDisabledNotificationUsers = NotificationUsersField(
        source="users_to_notify",
        child=serializers.CharField(max_length=150),
        default=list,
        help_text="Usernames of the hub's users e-mailed when the integration is disabled "
        "automatically (for example, after Paddle refused its API key).",
    )

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {key: [self._unknown(key)] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not errors or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def _unknown(self, key):
        close = difflib.get_close_matches(str(key), list(self.fields), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        return f"Unknown option.{hint} The options are: {', '.join(self.fields)}."


class IntegrationConfigRequestSerializer(serializers.Serializer):
    """m3ter's IntegrationConfigRequest."""

    entityType = choice_field(EntityType, source="entity_type")
    destination = choice_field(Destination)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    configData = ConfigDataSerializer(source="*", required=False)
    integrationCredentialsId = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Attaches this credential; null detaches the one attached.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required on update: the version you read. Ignored on create.",
    )
    entityId = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Not used by the hub."
    )
    destinationId = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Not used on write; the hub's destinationId is the attached credential's id.",
    )
    credentials = serializers.JSONField(
        required=False,
        help_text="Not accepted: create the credential with POST …/integrationcredentials and "
        "pass its id as integrationCredentialsId.",
    )

    def validate_credentials(self, value):
        raise serializers.ValidationError(
            "Inline credentials are not accepted. Create the credential with POST "
            "/organizations/{orgId}/integrationcredentials and pass its id as "
            "integrationCredentialsId."
        )


class IntegrationConfigCreateSerializer(IntegrationConfigRequestSerializer):
    """m3ter's IntegrationConfigRequest on create, where m3ter's guide requires a name."""

    name = serializers.CharField(
        max_length=200, error_messages={"required": NAME_REQUIRED, "blank": NAME_REQUIRED}
    )


# Where a service's error about a model field points in the request.
INTEGRATION_FIELD_PATHS = {
    "entity_type": "entityType",
    "credential": "integrationCredentialsId",
    **{field.source: f"configData.{name}" for name, field in ConfigDataSerializer().fields.items()},
}


class IntegrationConfigResponseSerializer(serializers.Serializer):
    """m3ter's IntegrationConfigResponse."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    entityType = serializers.CharField(source="entity_type")
    entityId = serializers.SerializerMethodField()
    destination = serializers.CharField()
    destinationId = serializers.UUIDField(
        source="credential_id", allow_null=True, help_text="The attached credential's id."
    )
    configData = ConfigDataSerializer(source="*")
    integrationCredentialsId = serializers.UUIDField(source="credential_id", allow_null=True)
    authorized = serializers.BooleanField(
        source="connected", help_text="True when a credential is attached (connected)."
    )
    enabled = serializers.BooleanField()
    disabledReason = serializers.CharField(
        source="disabled_reason", help_text="Why the integration was disabled, when it was."
    )
    triggerType = serializers.SerializerMethodField(
        help_text="EVENT: the hub sends a bill when it is generated, recalculated or approved."
    )
    dtCreated = serializers.DateTimeField(source="created_at")
    dtLastModified = serializers.DateTimeField(source="updated_at")
    createdBy = UsernameField(source="created_by")
    lastModifiedBy = UsernameField(source="updated_by")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_entityId(self, integration):
        return None

    @extend_schema_field({"type": "string", "enum": ["EVENT"]})
    def get_triggerType(self, integration):
        return "EVENT"


class IntegrationConfigFilter(serializers.Serializer):
    destinationId = serializers.UUIDField(
        required=False, help_text="Only integrations using this credential."
    )


class IntegrationConfigEntityFilter(IntegrationConfigFilter):
    destination = choice_field(Destination, required=False)
    entityId = serializers.CharField(
        required=False, help_text="Not used: the hub's integrations serve every entity of a type."
    )
