"""The REST API, shaped like m3ter's (paths, camelCase JSON, paging, errors) so code written for
m3ter's API works against the hub. Views only translate: every write goes through a service."""

import base64
import binascii
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.exceptions import Conflict, field_errors, record_error
from api.services import (
    KEEP,
    InvalidClient,
    access_token_issue,
    external_mapping_create,
    external_mapping_delete,
    external_mapping_update,
    integration_replace,
)
from credentials.models import IntegrationCredential
from credentials.services import credential_create, credential_delete, credential_update
from integrations.models import IntegrationConfiguration
from integrations.services import (
    integration_create,
    integration_delete,
    integration_disable,
    integration_enable,
)
from m3terdata.models import Account, Bill, ExternalMapping
from m3terdata.parsing import ACCOUNT_FIELDS, M3terRecordError, parse_bill, parse_record
from m3terdata.services import account_upsert
from m3tersync.services import bill_receive as bill_upsert
from runs.models import IntegrationRun, RunLogEntry
from runs.services import run_replay, run_retry

ORG_ID = OpenApiParameter(
    "orgId",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The m3ter organization id; the hub serves one (its M3TER_ORG_ID setting).",
)


def validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def find(queryset, pk, label: str):
    """The object with this id, or a 404 naming what was not found (a malformed id too)."""
    try:
        found = queryset.filter(pk=pk).first()
    except (ValueError, DjangoValidationError):
        found = None
    if found is None:
        raise exceptions.NotFound(f"No {label} with id {pk!r}.")
    return found


def body_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError(["The request body must be a JSON object."])
    return request.data


class OrganizationView(GenericAPIView):
    """A path under /organizations/{orgId}. The hub serves one m3ter organization: any other
    orgId is a 404, as an organization the caller cannot see is on m3ter."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if any("\x00" in value for value in kwargs.values()):
            # No id holds a NUL character, and PostgreSQL refuses to even compare one.
            raise exceptions.NotFound("No resource has a NUL character in its path.")
        org_id = kwargs.get("orgId", "")
        if org_id.lower() != settings.M3TER_ORG_ID.lower():
            raise exceptions.NotFound(
                f"No organization with id {org_id!r}: this hub serves organization "
                f"{settings.M3TER_ORG_ID} only."
            )

    def page(self, queryset):
        items = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(items, many=True).data)


# --- Integration configurations ----------------------------------------------------------------

INTEGRATIONS = IntegrationConfiguration.objects.select_related("created_by", "updated_by")
NOT_STORED = ("integrationCredentialsId", "version", "entityId", "destinationId", "credentials")


def _integration_values(data: dict):
    """The service's values and the credential to attach (None detaches, KEEP leaves it)."""
    values = {key: value for key, value in data.items() if key not in NOT_STORED}
    if "integrationCredentialsId" not in data:
        return values, KEEP
    credential_id = data["integrationCredentialsId"]
    if credential_id is None:
        return values, None
    credential = IntegrationCredential.objects.filter(pk=credential_id).first()
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


@extend_schema(tags=["Integrations"], parameters=[ORG_ID])
class IntegrationConfigListView(OrganizationView):
    queryset = INTEGRATIONS
    serializer_class = s.IntegrationConfigResponseSerializer

    @extend_schema(
        operation_id="GetIntegrationConfigs",
        summary="List integration configurations",
        parameters=[s.IntegrationConfigFilter],
    )
    def get(self, request, orgId):
        filters = validated(s.IntegrationConfigFilter, request.query_params)
        queryset = self.get_queryset()
        if "destinationId" in filters:
            queryset = queryset.filter(credential_id=filters["destinationId"])
        return self.page(queryset)

    @extend_schema(
        operation_id="PostIntegrationConfig",
        summary="Create an integration configuration",
        request=s.IntegrationConfigRequestSerializer,
    )
    def post(self, request, orgId):
        data = validated(s.IntegrationConfigRequestSerializer, request.data)
        values, credential = _integration_values(data)
        if credential is not KEEP:
            values["credential"] = credential
        try:
            integration = integration_create(values=values, user=request.user)
        except DjangoValidationError as error:
            raise field_errors(error, s.INTEGRATION_FIELD_PATHS) from None
        return Response(self.get_serializer(integration).data)


@extend_schema(tags=["Integrations"], parameters=[ORG_ID])
class IntegrationConfigDetailView(OrganizationView):
    queryset = INTEGRATIONS
    serializer_class = s.IntegrationConfigResponseSerializer

    @extend_schema(operation_id="GetIntegrationConfig", summary="Get an integration configuration")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(find(self.get_queryset(), id, "integration")).data)

    @extend_schema(
        operation_id="UpdateIntegrationConfig",
        summary="Update an integration configuration",
        description=(
            "Send the `version` you read: a configuration changed since is refused with 409. "
            "Fields left out keep their values; a `configData` sent replaces every option (those "
            "left out go back to their defaults); `integrationCredentialsId: null` detaches the "
            "credential."
        ),
        request=s.IntegrationConfigRequestSerializer,
        responses={200: s.IntegrationConfigResponseSerializer},
    )
    def put(self, request, orgId, id):
        integration = find(self.get_queryset(), id, "integration")
        data = validated(s.IntegrationConfigRequestSerializer, request.data)
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
            raise field_errors(error, s.INTEGRATION_FIELD_PATHS) from None
        return Response(self.get_serializer(integration).data)

    @extend_schema(
        operation_id="DeleteIntegrationConfig",
        summary="Delete an integration configuration (its runs stay)",
    )
    def delete(self, request, orgId, id):
        integration = find(self.get_queryset(), id, "integration")
        answer = self.get_serializer(integration).data
        integration_delete(integration=integration)
        return Response(answer)


class IntegrationSwitchView(OrganizationView):
    queryset = INTEGRATIONS
    serializer_class = s.IntegrationConfigResponseSerializer
    action_permissions = ["integrations.change_integrationconfiguration"]

    def switch(self, integration, user):
        raise NotImplementedError

    def post(self, request, orgId, id):
        integration = find(self.get_queryset(), id, "integration")
        return Response(self.get_serializer(self.switch(integration, request.user)).data)


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
class IntegrationConfigEntityView(OrganizationView):
    queryset = INTEGRATIONS
    serializer_class = s.IntegrationConfigResponseSerializer

    @extend_schema(
        operation_id="GetIntegrationConfigForType",
        summary="List the integration configurations for an entity type",
        description="m3ter's spec declares one object but pages this list; the hub answers "
        'with a page, {"data": [...], "nextToken": ...}.',
        parameters=[s.IntegrationConfigEntityFilter],
    )
    def get(self, request, orgId, entityType):
        filters = validated(s.IntegrationConfigEntityFilter, request.query_params)
        queryset = self.get_queryset().filter(entity_type=entityType)
        if "destination" in filters:
            queryset = queryset.filter(destination=filters["destination"])
        if "destinationId" in filters:
            queryset = queryset.filter(credential_id=filters["destinationId"])
        return self.page(queryset)


# --- Credentials -------------------------------------------------------------------------------

CREDENTIALS = IntegrationCredential.objects.select_related("created_by", "updated_by")


@extend_schema(tags=["IntegrationCredentials"], parameters=[ORG_ID])
class CredentialListView(OrganizationView):
    queryset = CREDENTIALS
    serializer_class = s.CredentialSerializer

    @extend_schema(operation_id="ListIntegrationCredentials", summary="List credentials")
    def get(self, request, orgId):
        return self.page(self.get_queryset())

    @extend_schema(
        operation_id="CreateIntegrationCredentials",
        summary="Create a credential (a Paddle API key)",
        description="`apiKey` is stored encrypted and never returned; answers show `apiKeyHint`.",
    )
    def post(self, request, orgId):
        data = validated(s.CredentialSerializer, request.data)
        try:
            credential = credential_create(
                name=data["name"],
                destination=data["destination"],
                api_key=data["apiKey"],
                user=request.user,
            )
        except DjangoValidationError as error:
            raise field_errors(error, s.CREDENTIAL_FIELD_PATHS) from None
        return Response(self.get_serializer(credential).data)


@extend_schema(tags=["IntegrationCredentials"], parameters=[ORG_ID])
class CredentialDetailView(OrganizationView):
    queryset = CREDENTIALS
    serializer_class = s.CredentialSerializer

    @extend_schema(operation_id="GetIntegrationCredentials", summary="Get a credential")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(find(self.get_queryset(), id, "credential")).data)

    @extend_schema(
        operation_id="UpdateIntegrationCredentials",
        summary="Rename a credential or replace its API key",
        description="The destination cannot change. Leave `apiKey` out to keep the key.",
        request=s.CredentialUpdateSerializer,
    )
    def put(self, request, orgId, id):
        credential = find(self.get_queryset(), id, "credential")
        data = validated(s.CredentialUpdateSerializer, request.data)
        if data.get("destination", credential.destination) != credential.destination:
            raise exceptions.ValidationError(
                {
                    "destination": [
                        "A credential's destination cannot change; create a new credential "
                        "for the other destination."
                    ]
                }
            )
        try:
            credential = credential_update(
                credential=credential,
                name=data["name"],
                api_key=data.get("apiKey"),
                user=request.user,
            )
        except DjangoValidationError as error:
            raise field_errors(error, s.CREDENTIAL_FIELD_PATHS) from None
        return Response(self.get_serializer(credential).data)

    @extend_schema(
        operation_id="DeleteIntegrationCredentials",
        summary="Delete a credential no integration uses",
    )
    def delete(self, request, orgId, id):
        credential = find(self.get_queryset(), id, "credential")
        answer = self.get_serializer(credential).data
        try:
            credential_delete(credential=credential)
        except DjangoValidationError as error:
            raise Conflict(" ".join(error.messages)) from None
        return Response(answer)


# --- External mappings -------------------------------------------------------------------------


def _mapping_values(data: dict) -> dict:
    integration_id = data.get("integration_id")
    if integration_id and not IntegrationConfiguration.objects.filter(pk=integration_id).exists():
        raise exceptions.ValidationError(
            {"integrationConfigId": [f"No integration with id {integration_id}."]}
        )
    return dict(data)


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingListView(OrganizationView):
    queryset = ExternalMapping.objects.all()
    serializer_class = s.ExternalMappingSerializer

    @extend_schema(
        operation_id="ListExternalMappings",
        summary="List external mappings",
        parameters=[s.ExternalMappingFilter],
    )
    def get(self, request, orgId):
        filters = validated(s.ExternalMappingFilter, request.query_params)
        queryset = self.get_queryset()
        if "externalSystemId" in filters:
            queryset = queryset.filter(external_system=filters["externalSystemId"])
        if filters.get("m3terIds"):
            queryset = queryset.filter(m3ter_id__in=filters["m3terIds"])
        if "integrationConfigId" in filters:
            queryset = queryset.filter(integration_id=filters["integrationConfigId"])
        return self.page(queryset)

    @extend_schema(operation_id="CreateExternalMapping", summary="Create an external mapping")
    def post(self, request, orgId):
        values = _mapping_values(validated(s.ExternalMappingSerializer, request.data))
        try:
            mapping = external_mapping_create(values=values)
        except DjangoValidationError as error:
            raise _mapping_conflict(error) from None
        return Response(self.get_serializer(mapping).data)


def _mapping_conflict(error: DjangoValidationError) -> exceptions.APIException:
    """A duplicate mapping is a conflict with what is stored, not a malformed request."""
    return Conflict(" ".join(error.messages))


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingDetailView(OrganizationView):
    queryset = ExternalMapping.objects.all()
    serializer_class = s.ExternalMappingSerializer

    @extend_schema(operation_id="GetExternalMapping", summary="Get an external mapping")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(find(self.get_queryset(), id, "external mapping")).data)

    @extend_schema(
        operation_id="UpdateExternalMapping",
        summary="Update an external mapping",
        description="Send the `version` you read: a mapping changed since is refused with 409.",
    )
    def put(self, request, orgId, id):
        mapping = find(self.get_queryset(), id, "external mapping")
        values = _mapping_values(validated(s.ExternalMappingSerializer, request.data))
        if "version" not in values:
            raise exceptions.ValidationError(
                {"version": ["Required on update: send the version you last read."]}
            )
        try:
            mapping = external_mapping_update(
                mapping=mapping, values=values, expected_version=values["version"]
            )
        except DjangoValidationError as error:
            raise _mapping_conflict(error) from None
        return Response(self.get_serializer(mapping).data)

    @extend_schema(operation_id="DeleteExternalMapping", summary="Delete an external mapping")
    def delete(self, request, orgId, id):
        mapping = find(self.get_queryset(), id, "external mapping")
        answer = self.get_serializer(mapping).data
        external_mapping_delete(mapping=mapping)
        return Response(answer)


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingsForM3terEntityView(OrganizationView):
    queryset = ExternalMapping.objects.all()
    serializer_class = s.ExternalMappingSerializer

    @extend_schema(
        operation_id="ListExternalMappingsForM3terEntity",
        summary="List the external mappings of an m3ter entity",
    )
    def get(self, request, orgId, entity, m3terId):
        return self.page(self.get_queryset().filter(m3ter_entity=entity, m3ter_id=m3terId))


@extend_schema(tags=["ExternalMappings"], parameters=[ORG_ID])
class ExternalMappingsForExternalEntityView(OrganizationView):
    queryset = ExternalMapping.objects.all()
    serializer_class = s.ExternalMappingSerializer

    @extend_schema(
        operation_id="ListExternalMappingsForExternalSystemAndEntity",
        summary="List the external mappings of an entity in an external system",
    )
    def get(self, request, orgId, system, externalTable, externalId):
        return self.page(
            self.get_queryset().filter(
                external_system=system, external_table=externalTable, external_id=externalId
            )
        )


# --- Integration runs --------------------------------------------------------------------------


def _run_ordering(request):
    return "created_at" if request.query_params.get("order") == "ASC" else "-created_at"


class RunListBase(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunSerializer
    filter_class = s.IntegrationRunFilter
    cursor_ordering = staticmethod(_run_ordering)

    def path_filters(self, kwargs) -> dict:
        return {}

    def get(self, request, orgId, **kwargs):
        filters = validated(self.filter_class, request.query_params)
        lookups = {
            "status": "status",
            "startDate": "created_at__gte",
            "endDate": "created_at__lt",
            "entityType": "entity_type",
            "entityId": "entity_id",
            "integrationConfigId": "integration_id",
            "destinationId": "destination_id",
            "destination": "destination",
        }
        queryset = self.get_queryset().filter(
            **{lookups[name]: value for name, value in filters.items() if name in lookups},
            **self.path_filters(kwargs),
        )
        return self.page(queryset)


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, s.IntegrationRunListFilter],
        operation_id="ListAllIntegrationRuns",
        summary="List integration runs (the hub's addition: every run, filtered)",
    )
)
class IntegrationRunListView(RunListBase):
    filter_class = s.IntegrationRunListFilter


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, s.IntegrationRunFilter],
        operation_id="ListIntegrationRuns",
        summary="List the integration runs of an entity (a bill)",
    )
)
class IntegrationRunsForEntityView(RunListBase):
    def path_filters(self, kwargs):
        return {"entity_type": kwargs["entityType"], "entity_id": kwargs["entityId"]}


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ORG_ID, s.IntegrationRunDestinationFilter],
        operation_id="ListIntegrationRunsByDestinationId",
        summary="List the integration runs for a destination id (a credential's id)",
    )
)
class IntegrationRunsForDestinationView(RunListBase):
    filter_class = s.IntegrationRunDestinationFilter

    def path_filters(self, kwargs):
        return {"destination_id": kwargs["destinationId"]}


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunDetailView(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunSerializer

    @extend_schema(operation_id="GetIntegrationRun", summary="Get an integration run")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(find(self.get_queryset(), id, "integration run")).data)


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLatestView(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunSerializer

    @extend_schema(
        operation_id="GetIntegrationRunLatest",
        summary="Get the latest integration run of an entity (a bill)",
    )
    def get(self, request, orgId, entityType, id):
        run = (
            self.get_queryset()
            .filter(entity_type=entityType, entity_id=id)
            .order_by("-created_at")
            .first()
        )
        if run is None:
            raise exceptions.NotFound(f"No integration run for {entityType} {id!r}.")
        return Response(self.get_serializer(run).data)


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLatestForIdsView(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunSerializer
    pagination_class = None

    @extend_schema(
        operation_id="GetIntegrationRunLatestForIds",
        summary="Get the latest integration run of each of several entities",
        description='Answers {"data": [...]}: one run per id that has any.',
        parameters=[s.LatestRunsFilter],
        responses={
            200: inline_serializer(
                "LatestIntegrationRuns", {"data": s.IntegrationRunSerializer(many=True)}
            )
        },
    )
    def get(self, request, orgId, entityType):
        ids = validated(s.LatestRunsFilter, request.query_params)["ids"]
        latest = (
            IntegrationRun.objects.filter(entity_type=entityType, entity_id=OuterRef("entity_id"))
            .order_by("-created_at")
            .values("pk")[:1]
        )
        runs = self.get_queryset().filter(
            entity_type=entityType, entity_id__in=ids, pk=Subquery(latest)
        )
        return Response({"data": self.get_serializer(runs, many=True).data})


@extend_schema(tags=["IntegrationRuns"], parameters=[ORG_ID])
class IntegrationRunLogView(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunLogSerializer

    @extend_schema(operation_id="GetIntegrationRunLogs", summary="Get an integration run's log")
    def get(self, request, orgId, id):
        run = find(self.get_queryset(), id, "integration run")
        entries = list(RunLogEntry.objects.filter(run=run))
        return Response(self.get_serializer(entries).data)


class RunActionView(OrganizationView):
    queryset = IntegrationRun.objects.all()
    serializer_class = s.IntegrationRunSerializer

    def act(self, run, user):
        raise NotImplementedError

    def post(self, request, orgId, id):
        run = find(self.get_queryset(), id, "integration run")
        try:
            with transaction.atomic():
                result = self.act(run, request.user)
        except DjangoValidationError as error:
            raise Conflict(" ".join(error.messages)) from None
        return Response(self.get_serializer(result).data)


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="RetryIntegrationRun",
        summary="Retry a failed integration run (the hub's addition)",
    )
)
class IntegrationRunRetryView(RunActionView):
    action_permissions = ["runs.change_integrationrun"]

    def act(self, run, user):
        return run_retry(run=run, user=user)


@extend_schema(tags=["IntegrationRuns"])
@extend_schema_view(
    post=extend_schema(
        parameters=[ORG_ID],
        request=None,
        operation_id="ReplayIntegrationRun",
        summary="Replay an integration run as a new run (the hub's addition)",
    )
)
class IntegrationRunReplayView(RunActionView):
    action_permissions = ["runs.add_integrationrun"]

    def act(self, run, user):
        return run_replay(run=run, user=user)


# --- Accounts and bills ------------------------------------------------------------------------


def _record_for(request, *, path_id=None) -> dict:
    """The body with the record's id: the path's, else the body's, else a new one."""
    record = dict(body_object(request))
    if path_id is not None:
        if record.get("id") not in (None, path_id):
            raise exceptions.ValidationError(
                {"id": [f"Does not match the id in the path ({path_id})."]}
            )
        record["id"] = path_id
    elif record.get("id") is None:
        record["id"] = str(uuid.uuid4())
    return record


def _refuse_older(label: str, stored, record: dict):
    raise Conflict(
        f"The hub holds version {stored.version} of {label} {stored.m3ter_id}; the version sent "
        f"({record.get('version')}) is older. Send the current record."
    )


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountListView(OrganizationView):
    queryset = Account.objects.all()
    serializer_class = s.AccountSerializer
    cursor_ordering = "-pk"

    @extend_schema(
        operation_id="ListAccounts", summary="List accounts", parameters=[s.AccountFilter]
    )
    def get(self, request, orgId):
        filters = validated(s.AccountFilter, request.query_params)
        queryset = self.get_queryset()
        if filters.get("ids"):
            queryset = queryset.filter(m3ter_id__in=filters["ids"])
        if filters.get("codes"):
            queryset = queryset.filter(code__in=filters["codes"])
        return self.page(queryset)

    @extend_schema(
        operation_id="PostAccount",
        summary="Create an account",
        description="The hub keeps m3ter's id: give it as `id`, or one is made up.",
    )
    def post(self, request, orgId):
        record = _record_for(request)
        if Account.objects.filter(m3ter_id=record["id"]).exists():
            raise Conflict(
                f"Account {record['id']} exists already; update it with "
                f"PUT /organizations/{orgId}/accounts/{record['id']}."
            )
        return Response(self.get_serializer(_account_write(record)).data)


def _account_write(record):
    validated(s.AccountSerializer, record)
    try:
        values = parse_record(record, ACCOUNT_FIELDS, collection="account", index=None)
    except M3terRecordError as error:
        raise record_error(error) from None
    account, outcome = account_upsert(values=values)
    if outcome == "ignored_older":
        _refuse_older("account", account, record)
    return account


@extend_schema(tags=["Accounts"], parameters=[ORG_ID])
class AccountDetailView(OrganizationView):
    queryset = Account.objects.all()
    serializer_class = s.AccountSerializer

    @extend_schema(operation_id="GetAccount", summary="Get an account")
    def get(self, request, orgId, id):
        account = self.get_queryset().filter(m3ter_id=id).first()
        if account is None:
            raise exceptions.NotFound(f"No account with id {id!r}.")
        return Response(self.get_serializer(account).data)

    @extend_schema(
        operation_id="PutAccount",
        summary="Update (or create) an account",
        description="An older `version` than the hub holds is refused with 409.",
    )
    def put(self, request, orgId, id):
        return Response(self.get_serializer(_account_write(_record_for(request, path_id=id))).data)


BILLS = Bill.objects.select_related("account").prefetch_related("line_items")


def _bill_write(record):
    validated(s.BillSerializer, record)
    try:
        values, line_items = parse_bill(record, collection="bill")
        with transaction.atomic():
            bill, outcome = bill_upsert(values=values, line_items=line_items)
    except M3terRecordError as error:
        raise record_error(error) from None
    if outcome == "ignored_older":
        _refuse_older("bill", bill, record)
    return BILLS.get(pk=bill.pk)


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillListView(OrganizationView):
    queryset = BILLS
    serializer_class = s.BillSerializer
    cursor_ordering = "-pk"

    @extend_schema(operation_id="ListBills", summary="List bills", parameters=[s.BillFilter])
    def get(self, request, orgId):
        filters = validated(s.BillFilter, request.query_params)
        lookups = {
            "accountId": "account__m3ter_id",
            "status": "status",
            "locked": "locked",
            "ids": "m3ter_id__in",
            "billJobId": "bill_job_id",
            "billDate": "bill_date",
            "billDateStart": "bill_date__gte",
            "billDateEnd": "bill_date__lt",
        }
        queryset = self.get_queryset().filter(
            **{
                lookups[name]: value
                for name, value in filters.items()
                if value is not None and value != []
            }
        )
        return self.page(queryset)

    @extend_schema(
        operation_id="PostBill",
        summary="Create a bill (the hub's addition: m3ter makes bills itself)",
        description="A bill event: every integration that selects the bill gets a run. The hub "
        "keeps m3ter's id: give it as `id`, or one is made up.",
    )
    def post(self, request, orgId):
        record = _record_for(request)
        if Bill.objects.filter(m3ter_id=record["id"]).exists():
            raise Conflict(
                f"Bill {record['id']} exists already; update it with "
                f"PUT /organizations/{orgId}/bills/{record['id']}."
            )
        return Response(self.get_serializer(_bill_write(record)).data)


@extend_schema(tags=["Bills"], parameters=[ORG_ID])
class BillDetailView(OrganizationView):
    queryset = BILLS
    serializer_class = s.BillSerializer

    @extend_schema(operation_id="GetBill", summary="Get a bill with its line items")
    def get(self, request, orgId, id):
        bill = self.get_queryset().filter(m3ter_id=id).first()
        if bill is None:
            raise exceptions.NotFound(f"No bill with id {id!r}.")
        return Response(self.get_serializer(bill).data)

    @extend_schema(
        operation_id="PutBill",
        summary="Update (or create) a bill (the hub's addition)",
        description="A new or changed bill is a bill event, as with the import. An older "
        "`version` than the hub holds is refused with 409.",
    )
    def put(self, request, orgId, id):
        return Response(self.get_serializer(_bill_write(_record_for(request, path_id=id))).data)


# --- Authentication ----------------------------------------------------------------------------

BASIC_HELP = (
    "Send your API key id and secret with HTTP Basic auth, e.g. "
    "curl -u KEY_ID:SECRET -d grant_type=client_credentials …/oauth/token."
)


def _client_credentials(request) -> tuple[str, str]:
    """The key id and secret: HTTP Basic, as m3ter documents, or client_id and client_secret in
    the body, which OAuth 2.0 also allows (Swagger UI's "request body" option)."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        body = request.data if isinstance(request.data, dict) else {}
        key_id, secret = body.get("client_id"), body.get("client_secret")
        if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
            return _checked(key_id, secret)
        raise exceptions.NotAuthenticated(f"No client credentials. {BASIC_HELP}")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed(
            f"The Basic credentials are not valid base64 of KEY_ID:SECRET. {BASIC_HELP}"
        ) from None
    key_id, colon, secret = decoded.partition(":")
    if not colon:
        raise exceptions.AuthenticationFailed(
            f"The Basic credentials must be KEY_ID:SECRET. {BASIC_HELP}"
        )
    return _checked(key_id, secret)


def _checked(key_id: str, secret: str) -> tuple[str, str]:
    # No key id holds a NUL character, and PostgreSQL refuses to even compare one.
    if not key_id or not secret or "\x00" in key_id:
        raise exceptions.AuthenticationFailed(
            f"The key id and secret must both be given. {BASIC_HELP}"
        )
    return key_id, secret


@extend_schema(tags=["Authentication"])
@extend_schema_view(
    post=extend_schema(
        operation_id="GenerateToken",
        summary="Get a bearer token (OAuth 2.0 client credentials)",
        description=f"{BASIC_HELP} The token goes in `Authorization: Bearer <token>`.",
        request={
            "application/json": s.TokenRequestSerializer,
            "application/x-www-form-urlencoded": s.TokenRequestSerializer,
        },
        responses={200: s.TokenResponseSerializer},
        auth=[{"BasicAuth": []}],
    )
)
class TokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]

    def get_authenticate_header(self, request):
        return 'Basic realm="api"'

    def post(self, request):
        key_id, secret = _client_credentials(request)
        validated(s.TokenRequestSerializer, body_object(request))
        try:
            token, lifetime = access_token_issue(key_id=key_id, secret=secret)
        except InvalidClient:
            raise exceptions.AuthenticationFailed(
                "The API key id and secret do not match an active API key of an active service "
                "user. Check them, or make a new key in the admin (REST API › Service users)."
            ) from None
        return Response(
            {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
            headers={"Cache-Control": "no-store"},
        )
