"""What every resource's views share: the organization in the path, reading a request, paging,
and the 404 for an id that names nothing."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView

from api.exceptions import error_body
from integrations.models import EntityType

ORG_ID = OpenApiParameter(
    "orgId",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The m3ter organization id; the hub serves one (its M3TER_ORG_ID setting).",
)


def validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    valid = serializer.is_valid()
    if isinstance(data, QueryDict):
        errors = {**serializer.errors, **_blank_parameters(serializer, data)}
    else:
        errors = {**json_type_errors(serializer, data), **serializer.errors}
    if not valid or errors:
        raise exceptions.ValidationError(errors)
    return serializer.validated_data


# The JSON types the schema gives these fields; DRF would also take 5 for "5", "true" for true,
# 1 for a UUID, which the schema (and m3ter) refuse.
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.IntegerField, (int,), "a whole number"),
    ((serializers.CharField, serializers.UUIDField), (str,), "a string"),
)


def json_type_errors(serializer, data) -> dict:
    """The fields of a JSON body whose values are not of the JSON type the schema gives them."""
    errors = {}
    if not isinstance(data, dict):
        return errors
    for name, field in serializer.fields.items():
        value = data.get(name)
        if field.read_only or value is None:
            continue
        if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            nested = {i: json_type_errors(field.child, item) for i, item in enumerate(value)}
            nested = {i: problem for i, problem in nested.items() if problem}
        elif isinstance(field, serializers.Serializer):
            nested = json_type_errors(field, value)
        elif isinstance(field, serializers.ListField) and isinstance(value, list):
            nested = {
                i: problem
                for i, item in enumerate(value)
                if (problem := _type_error(field.child, item))
            }
        else:
            nested = _type_error(field, value)
        if nested:
            errors[name] = nested
    return errors


def _type_error(field, value) -> list:
    for field_class, types, described in JSON_TYPES:
        if isinstance(field, field_class) and not isinstance(field, serializers.ChoiceField):
            wrong = isinstance(value, bool) and bool not in types
            if wrong or not isinstance(value, types):
                return [f"Expected {described}, got {value!r}."]
    return []


def _blank_parameters(serializer, params: QueryDict) -> dict:
    """DRF reads `destinationId=` in a query string as the parameter left out; the schema says
    an empty value is not a UUID (or not a listed value), so it is refused like any other."""
    errors = {}
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListField) or "" not in params.getlist(name):
            continue
        try:
            field.run_validation("")
        except exceptions.ValidationError as error:
            errors[name] = error.detail
    return errors


def find(label: str, pk, selector, **lookup):
    """What `selector(**lookup)` finds for the id `pk`, or a 404 naming what was not found (a
    malformed id too: the selector raises ValueError or ValidationError for one)."""
    try:
        found = selector(**lookup)
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
        entity_type = kwargs.get("entityType")
        if entity_type is not None and entity_type not in EntityType.values:
            raise exceptions.NotFound(
                f"No entity type {entity_type!r}: the hub serves {', '.join(EntityType.values)}."
            )
        org_id = kwargs.get("orgId", "")
        if org_id.lower() != settings.M3TER_ORG_ID.lower():
            raise exceptions.NotFound(
                f"No organization with id {org_id!r}: this hub serves organization "
                f"{settings.M3TER_ORG_ID} only."
            )

    def page(self, queryset):
        # A view answering with a page sets `paged = True`, so the schema documents a page.
        items = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.serialized(items, many=True))

    def serialized(self, instance, *, many: bool = False):
        """The answer for `instance` (or a page of them). A view whose answers need more than
        their objects reads it here, for the whole page at once."""
        return self.get_serializer(instance, many=many).data


def unknown_path(request, *args, **kwargs):
    """A path under /organizations/ the API does not have, in the API's error shape."""
    body = error_body(
        exceptions.NotFound(
            f"No API path {request.path!r}; the paths are listed at /api/docs/ and /api/schema/."
        )
    )
    return JsonResponse(body, status=404)
