"""The OpenAPI schema says what the server does (so that a client generated from it works):
paged lists are documented as pages, deletes as the 200 with the object they answer, and every
error an operation can answer with the API's one error shape."""

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from api.serializers.common import ErrorSerializer
from integrations.models import EntityType

ENTITY_TYPE = OpenApiParameter(
    "entityType",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=EntityType.values,
    description="The m3ter entity type; the hub delivers bills.",
)

# Status → when it is answered (the error's description in the schema).
ERRORS = {
    "400": "The request is not valid; `errors` names the fields at fault.",
    "401": "No valid bearer token.",
    "403": "The service user lacks the permission the message names.",
    "404": "No such object (or another organization).",
    "409": "Conflicts with what is stored: a stale version, a duplicate, an object in use.",
    "415": "The body is not JSON.",
}


class M3terAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if "{entityType}" in self.path:
            parameters = [*parameters, ENTITY_TYPE]
        return parameters

    def _get_parameters(self):
        # Swagger UI's "Try it out" starts from a parameter's example: the one organization the
        # hub serves (any other answers 404), read as the schema is made to follow the setting.
        # An example, not a default: generated clients make a defaulted path parameter optional.
        parameters = super()._get_parameters()
        for parameter in parameters:
            if (parameter["name"], parameter["in"]) == ("orgId", "path"):
                parameter["example"] = settings.M3TER_ORG_ID
        return parameters

    def _is_list_view(self, serializer=None):
        # Views answering their GET with OrganizationView.page() say so with `paged = True`.
        if self.method == "GET" and getattr(self.view, "paged", False):
            return True
        return super()._is_list_view(serializer)

    def _map_basic_serializer(self, serializer, direction):
        # drf-spectacular makes every read-only field required; one a serializer leaves out of
        # some answers (`answered_to_some`) is not.
        schema = super()._map_basic_serializer(serializer, direction)
        optional = set(getattr(serializer, "answered_to_some", ()))
        required = [name for name in schema.get("required", []) if name not in optional]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "DELETE" and "204" in responses:
            # A delete answers 200 with the object deleted, as m3ter's does.
            del responses["204"]
            responses["200"] = self._get_response_for_code(
                self.get_response_serializers(), "200", direction=direction
            )
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        for status in self._error_statuses():
            responses.setdefault(status, {**error, "description": ERRORS[status]})
        return responses

    def _error_statuses(self):
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        has_query = any(p["in"] == "query" for p in self._get_parameters())
        statuses = ["400"] if writes or has_query else []
        if not self.path.startswith("/organizations/"):
            return statuses + ["401"]
        statuses += ["401", "403", "404"]
        if writes:
            statuses += ["409"]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += ["415"]
        return statuses
