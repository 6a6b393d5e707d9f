"""m3ter's JSON (camelCase) ↔ the hub's model values. Serializers check types and shapes only;
the rules live in the services the views call."""

import base64
import datetime
import difflib
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials.models import Destination
from integrations.models import EntityType, SortLineItemsBy
from m3terdata.export import account_as_m3ter, bill_as_m3ter
from m3terdata.models import BillingFrequency, BillStatus, LineItemType
from runs.models import RunStatus


def _choice(choices, **kwargs):
    """A choice field whose error lists what is allowed."""
    allowed = ", ".join(choices.values)
    return serializers.ChoiceField(
        choices=choices.choices,
        error_messages={"invalid_choice": f'"{{input}}" is not allowed; use one of: {allowed}.'},
        **kwargs,
    )


class UsernameField(serializers.CharField):
    """m3ter's createdBy / lastModifiedBy: who did it (the hub names the user)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value.get_username()


# --- Integration configurations ----------------------------------------------------------------


class ConfigDataSerializer(serializers.Serializer):
    """The options of the wizard's stage 3. A configData sent on update replaces all of them:
    options left out go back to their defaults."""

    accountIds = serializers.ListField(
        source="account_ids",
        child=serializers.CharField(max_length=64),
        default=list,
        help_text="m3ter account ids the integration is limited to; empty means every account.",
    )
    restrictedAccountIds = serializers.ListField(
        source="restricted_account_ids",
        child=serializers.CharField(max_length=64),
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
        source="excluded_line_item_types", child=_choice(LineItemType), default=list
    )
    sortLineItemsBy = _choice(
        SortLineItemsBy, source="sort_line_items_by", default=SortLineItemsBy.NONE
    )
    accountFilter = serializers.CharField(
        source="account_filter",
        allow_blank=True,
        default="",
        help_text="m3ter's Account Filter, e.g. `address.country == US`; empty means no filter.",
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

    entityType = _choice(EntityType, source="entity_type")
    destination = _choice(Destination)
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
    dtCreated = serializers.DateTimeField(source="created_at")
    dtLastModified = serializers.DateTimeField(source="updated_at")
    createdBy = UsernameField(source="created_by")
    lastModifiedBy = UsernameField(source="updated_by")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_entityId(self, integration):
        return None


# --- External mappings -------------------------------------------------------------------------


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


# --- Credentials -------------------------------------------------------------------------------

CREDENTIAL_TYPE = "PADDLE_AUTH"


class CredentialTypeField(serializers.ChoiceField):
    """m3ter's credential type; every credential the hub holds is a Paddle API key."""

    def get_attribute(self, instance):
        return CREDENTIAL_TYPE


class CredentialSerializer(serializers.Serializer):
    """A Paddle API key (m3ter's IntegrationCredentials of type PADDLE_AUTH). The key is
    write-only: answers show only its last characters (apiKeyHint)."""

    id = serializers.UUIDField(read_only=True)
    type = CredentialTypeField(
        choices=[CREDENTIAL_TYPE],
        default=CREDENTIAL_TYPE,
        error_messages={"invalid_choice": f"The hub holds {CREDENTIAL_TYPE} credentials only."},
    )
    name = serializers.CharField(max_length=200)
    destination = _choice(Destination)
    apiKey = serializers.CharField(
        write_only=True,
        trim_whitespace=True,
        help_text="The Paddle API key. Never returned.",
    )
    apiKeyHint = serializers.CharField(source="api_key_hint", read_only=True)
    lastTestOk = serializers.BooleanField(source="last_test_ok", read_only=True, allow_null=True)
    lastTestMessage = serializers.CharField(source="last_test_message", read_only=True)
    dtLastTested = serializers.DateTimeField(
        source="last_tested_at", read_only=True, allow_null=True
    )
    dtCreated = serializers.DateTimeField(source="created_at", read_only=True)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)
    createdBy = UsernameField(source="created_by")
    lastModifiedBy = UsernameField(source="updated_by")


class CredentialUpdateSerializer(CredentialSerializer):
    apiKey = serializers.CharField(
        write_only=True, required=False, help_text="A new Paddle API key; leave out to keep it."
    )
    destination = _choice(Destination, required=False, help_text="Cannot change.")


CREDENTIAL_FIELD_PATHS = {"api_key": "apiKey"}


# --- Integration runs --------------------------------------------------------------------------


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


# --- Accounts and bills (the m3ter mirror) -----------------------------------------------------
# Requests are read by m3terdata.parsing and answers written by m3terdata.export, so the API, the
# import and the pull share one reading of m3ter's shape; these classes document it.


# The largest values the database columns hold (PositiveIntegerField, PositiveBigIntegerField).
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
# Bill amounts are DecimalField(max_digits=24, decimal_places=10): 14 digits before the point.
MAX_AMOUNT = Decimal(10) ** 14


def optional(field_class, **kwargs):
    """A field m3ter may leave out or send as null (m3ter's records are sparse)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    if issubclass(field_class, serializers.CharField):
        kwargs.setdefault("allow_blank", True)
    return field_class(**kwargs)


@extend_schema_field({"type": "number"})
class AmountField(serializers.Field):
    """A JSON number (m3ter's doubles, many decimals included) the amount columns can hold;
    digits past the tenth decimal are rounded when stored."""

    default_error_messages = {
        "invalid": "Expected a number.",
        "too_large": f"Must be less than {MAX_AMOUNT:,} in size.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float, str)):
            self.fail("invalid")
        try:
            number = Decimal(str(data))
        except InvalidOperation:
            self.fail("invalid")
        if not number.is_finite():
            self.fail("invalid")
        if abs(number) >= MAX_AMOUNT:
            self.fail("too_large")
        return number

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}]})
class CustomFieldValue(serializers.Field):
    default_error_messages = {"invalid": "A custom field value is a string or a number."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return serializers.CharField(allow_blank=True).run_validation(data)
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class AddressSerializer(serializers.Serializer):
    addressLine1 = optional(serializers.CharField, max_length=200)
    addressLine2 = optional(serializers.CharField, max_length=200)
    addressLine3 = optional(serializers.CharField, max_length=200)
    addressLine4 = optional(serializers.CharField, max_length=200)
    locality = optional(serializers.CharField, max_length=200)
    region = optional(serializers.CharField, max_length=200)
    postCode = optional(serializers.CharField, max_length=50)
    country = optional(serializers.CharField, max_length=100)


class M3terRecordSerializer(serializers.Serializer):
    """An m3ter record mirrored as m3ter sends it (an account, a bill): its id and version first;
    a subclass names its `as_m3ter` converter and declares `dtLastModified` last, where the schema
    lists it."""

    as_m3ter: Callable[[Any], dict]

    id = optional(serializers.CharField, max_length=64, allow_blank=False)
    version = optional(
        serializers.IntegerField,
        min_value=0,
        max_value=MAX_BIGINT,
        help_text="m3ter's version; an older one is refused.",
    )

    def to_representation(self, record):
        return {
            **self.as_m3ter(record),
            "dtLastModified": self.fields["dtLastModified"].to_representation(record.updated_at),
        }


class AccountSerializer(M3terRecordSerializer):
    """m3ter's Account. On create, `id` may be given (the account's id in m3ter) or is made up.
    The body is checked here for shape and limits, then read by m3terdata.parsing like an
    imported record."""

    code = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200)
    emailAddress = optional(serializers.EmailField, max_length=254)
    currency = optional(serializers.RegexField, regex=r"^[A-Za-z]{3}$", max_length=3)
    customFields = optional(serializers.DictField, child=CustomFieldValue())
    address = AddressSerializer(required=False, allow_null=True)
    parentAccountId = optional(serializers.CharField, max_length=64)
    purchaseOrderNumber = optional(serializers.CharField, max_length=100)
    daysBeforeBillDue = optional(serializers.IntegerField, min_value=0, max_value=MAX_INT)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)

    as_m3ter = staticmethod(account_as_m3ter)


class LineItemSerializer(serializers.Serializer):
    id = optional(serializers.CharField, max_length=64)
    lineItemType = _choice(LineItemType)
    description = optional(serializers.CharField, max_length=500)
    quantity = optional(AmountField)
    units = optional(AmountField)
    unit = optional(serializers.CharField, max_length=100)
    subtotal = AmountField()
    aggregationId = optional(serializers.CharField, max_length=64)
    productId = optional(serializers.CharField, max_length=64)
    productName = optional(serializers.CharField, max_length=200)
    productCode = optional(serializers.CharField, max_length=200)
    servicePeriodStartDate = optional(serializers.DateTimeField)
    servicePeriodEndDate = optional(serializers.DateTimeField)
    sequenceNumber = optional(serializers.IntegerField, min_value=0, max_value=MAX_INT)


class BillSerializer(M3terRecordSerializer):
    """m3ter's Bill with its line items. Writing one is a bill event: every integration that
    selects it gets a run. Checked here for shape and limits, then read by m3terdata.parsing."""

    accountId = serializers.CharField(max_length=64)
    accountCode = serializers.CharField(read_only=True)
    status = _choice(BillStatus, required=False, allow_null=True)
    locked = optional(serializers.BooleanField)
    billDate = optional(serializers.DateField)
    dueDate = optional(serializers.DateField)
    startDate = optional(serializers.DateField)
    endDate = optional(serializers.DateField)
    currency = serializers.RegexField(regex=r"^[A-Za-z]{3}$", max_length=3)
    billTotal = optional(AmountField)
    billingFrequency = _choice(BillingFrequency, required=False, allow_null=True)
    billJobId = optional(serializers.CharField, max_length=64)
    purchaseOrderNumber = optional(serializers.CharField, max_length=100)
    sequentialInvoiceNumber = optional(serializers.CharField, max_length=100)
    lastCalculatedDate = optional(serializers.DateTimeField)
    dtApproved = optional(serializers.DateTimeField)
    lineItems = LineItemSerializer(many=True, required=False, allow_null=True)
    dtLastModified = serializers.DateTimeField(source="updated_at", read_only=True)

    as_m3ter = staticmethod(bill_as_m3ter)


# --- Authentication ----------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(
        choices=["client_credentials"],
        error_messages={
            "invalid_choice": 'Only grant_type "client_credentials" is supported.',
            "required": 'Send grant_type "client_credentials".',
        },
    )
    scope = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    client_id = serializers.CharField(
        required=False, help_text="The API key id, when not sent with HTTP Basic auth."
    )
    client_secret = serializers.CharField(
        required=False, help_text="The API secret, when not sent with HTTP Basic auth."
    )


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")


# --- Query parameters --------------------------------------------------------------------------


class CommaListField(serializers.ListField):
    """An array in the query string, as m3ter's SDK sends it (ids=a,b) or repeated (ids=a&ids=b)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=200))
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            data = [part for item in data for part in str(item).split(",") if part]
        return super().to_internal_value(data)


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


class IntegrationConfigFilter(serializers.Serializer):
    destinationId = serializers.UUIDField(
        required=False, help_text="Only integrations using this credential."
    )


class IntegrationConfigEntityFilter(IntegrationConfigFilter):
    destination = _choice(Destination, required=False)
    entityId = serializers.CharField(
        required=False, help_text="Not used: the hub's integrations serve every entity of a type."
    )


class ExternalMappingFilter(serializers.Serializer):
    externalSystemId = serializers.CharField(
        required=False, help_text="Only mappings to this external system, e.g. Paddle."
    )
    m3terIds = CommaListField(required=False)
    integrationConfigId = serializers.UUIDField(required=False)


class IntegrationRunFilter(serializers.Serializer):
    status = _choice(RunStatus, required=False)
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
    destination = _choice(Destination, required=False)


class LatestRunsFilter(serializers.Serializer):
    ids = CommaListField(
        min_length=1, help_text="The entity ids (bill ids) to get the latest run of."
    )


class AccountFilter(serializers.Serializer):
    ids = CommaListField(required=False)
    codes = CommaListField(required=False)


class BillFilter(serializers.Serializer):
    accountId = serializers.CharField(required=False)
    status = _choice(BillStatus, required=False)
    locked = serializers.BooleanField(required=False, allow_null=True, default=None)
    ids = CommaListField(required=False)
    billJobId = serializers.CharField(required=False)
    billDate = serializers.DateField(required=False)
    billDateStart = serializers.DateField(required=False, help_text="Bills dated on or after.")
    billDateEnd = serializers.DateField(required=False, help_text="Bills dated before.")
