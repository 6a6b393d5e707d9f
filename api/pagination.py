"""m3ter's list paging: `pageSize` (1–200) and an opaque `nextToken`, answered as
{"data": [...], "nextToken": "..."} with nextToken left out on the last page."""

import re
from urllib import parse

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

MAX_PAGE_SIZE = 200
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class M3terCursorPagination(CursorPagination):
    cursor_query_param = "nextToken"
    cursor_query_description = "The nextToken of the previous page, to get the page after it."
    page_size_query_param = "pageSize"
    page_size_query_description = f"Number of items per page, 1 to {MAX_PAGE_SIZE}."
    page_size = 20
    max_page_size = MAX_PAGE_SIZE
    ordering = "-created_at"

    def get_ordering(self, request, queryset, view):
        # A view orders its own list: `cursor_ordering`, a field name or a function of the request.
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        if callable(ordering):
            ordering = ordering(request)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        for name in (self.page_size_query_param, self.cursor_query_param):
            if len(request.query_params.getlist(name)) > 1:
                raise exceptions.ValidationError({name: ["Give it once."]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"pageSize": [f"Give a whole number from 1 to {self.max_page_size}, not {raw!r}."]}
            )
        return size

    def decode_cursor(self, request):
        invalid = exceptions.ValidationError(
            {"nextToken": ["Unknown token: pass the nextToken of the previous page unchanged."]}
        )
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not BASE64.fullmatch(encoded):
            raise invalid
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid from None
        if cursor is not None and cursor.position is not None:
            # A forged position would otherwise reach the database as a filter value.
            name = self.ordering[0].lstrip("-")
            field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
            try:
                field.to_python(cursor.position)
            except DjangoValidationError:
                raise invalid from None
        return cursor

    def encode_cursor(self, cursor):
        # The token alone, not a URL: clients send it back as ?nextToken=.
        url = super().encode_cursor(cursor)
        return parse.parse_qs(parse.urlsplit(url).query)[self.cursor_query_param][0]

    def get_paginated_response(self, data):
        body = {"data": data}
        next_token = self.get_next_link()
        if next_token:
            body["nextToken"] = next_token
        return Response(body)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": schema,
                "nextToken": {
                    "type": "string",
                    "description": "Pass as nextToken to get the next page; absent on the last.",
                },
            },
        }
