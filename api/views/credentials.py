"""Credentials (Paddle API keys): m3ter's /integrationcredentials."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from api.exceptions import Conflict, field_errors
from api.serializers.credentials import (
    CREDENTIAL_FIELD_PATHS,
    CredentialSerializer,
    CredentialUpdateSerializer,
)
from api.views.common import ORG_ID, OrganizationView, find, validated
from credentials.selectors import credential_get, credential_records
from credentials.services import credential_create, credential_delete, credential_update
from m3terpaddle.text import sentences


def _credential(credential_id):
    return find("credential", credential_id, credential_get, credential_id=credential_id)


class CredentialView(OrganizationView):
    # The model the permissions are about; reads go through credentials.selectors.
    queryset = credential_records()
    serializer_class = CredentialSerializer


@extend_schema(tags=["IntegrationCredentials"], parameters=[ORG_ID])
class CredentialListView(CredentialView):
    paged = True

    @extend_schema(operation_id="ListIntegrationCredentials", summary="List credentials")
    def get(self, request, orgId):
        return self.page(credential_records())

    @extend_schema(
        operation_id="CreateIntegrationCredentials",
        summary="Create a credential (a Paddle API key)",
        description="`apiKey` is stored encrypted and never returned; answers show `apiKeyHint`.",
    )
    def post(self, request, orgId):
        data = validated(CredentialSerializer, request.data)
        try:
            credential = credential_create(
                name=data["name"],
                destination=data["destination"],
                api_key=data["apiKey"],
                user=request.user,
            )
        except DjangoValidationError as error:
            raise field_errors(error, CREDENTIAL_FIELD_PATHS) from None
        return Response(self.get_serializer(credential).data)


@extend_schema(tags=["IntegrationCredentials"], parameters=[ORG_ID])
class CredentialDetailView(CredentialView):
    @extend_schema(operation_id="GetIntegrationCredentials", summary="Get a credential")
    def get(self, request, orgId, id):
        return Response(self.get_serializer(_credential(id)).data)

    @extend_schema(
        operation_id="UpdateIntegrationCredentials",
        summary="Rename a credential or replace its API key",
        description="The destination cannot change. Leave `apiKey` out to keep the key.",
        request=CredentialUpdateSerializer,
    )
    def put(self, request, orgId, id):
        credential = _credential(id)
        data = validated(CredentialUpdateSerializer, request.data)
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
            raise field_errors(error, CREDENTIAL_FIELD_PATHS) from None
        return Response(self.get_serializer(credential).data)

    @extend_schema(
        operation_id="DeleteIntegrationCredentials",
        summary="Delete a credential no integration uses",
    )
    def delete(self, request, orgId, id):
        credential = _credential(id)
        answer = self.get_serializer(credential).data
        try:
            credential_delete(credential=credential)
        except DjangoValidationError as error:
            raise Conflict(sentences(*error.messages)) from None
        return Response(answer)
