"""What every resource's views share: the organization in the path, reading a request, paging,
and the 404 for an id that names nothing."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView

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
        org_id = kwargs.get("orgId", "")
        if org_id.lower() != settings.M3TER_ORG_ID.lower():
            raise exceptions.NotFound(
                f"No organization with id {org_id!r}: this hub serves organization "
                f"{settings.M3TER_ORG_ID} only."
            )

    def page(self, queryset):
        items = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(items, many=True).data)
