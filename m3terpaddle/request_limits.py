"""Requests refused before any view or parser reads them, with the API's JSON error shape: a NUL
character in the path (404) or query (400), a query of more parameters than Django reads (400),
a body over the size limit (413), or JSON nested deeper than any record of ours is (400). Every
page and JSON reader (the REST API, /oauth/token, m3ter's webhooks) is covered at once, and a
parser never recurses into a hostile body."""

import re
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The bytes that decide nesting: quotes (strings) and brackets; the rest is dropped first.
NOT_SKELETON = bytes(set(range(256)) - set(b'"[]{}'))
STRING = re.compile(rb'"[^"]*"')
# Openers become 1 and closers -1 (as signed bytes).
BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "code": code, "errors": []}, status=status)


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings do not count).
    Runs at C speed, a fraction of what parsing costs: the hub reads bodies of tens of megabytes."""
    if b"\\" in body:
        # Escaped backslashes, then escaped quotes, can neither open nor close a string.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Left: quotes and brackets. An adjacent pair of quotes has no bracket inside or between, so
    # it goes first; what remains between pairs of quotes is inside strings.
    skeleton = body.translate(None, NOT_SKELETON).replace(b'""', b"")
    outside_strings = STRING.sub(b"", skeleton)
    return max(accumulate(memoryview(outside_strings.translate(BRACKETS)).cast("b")), default=0)


def body_too_large(limit: int) -> JsonResponse:
    return error_response(
        413,
        "request_too_large",
        f"The request body is larger than the limit of {limit} bytes "
        "(the REQUEST_MAX_BODY_BYTES setting). Send fewer or smaller records per request.",
    )


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request):
        # PostgreSQL cannot even compare text holding NUL, and no id, filter or search has one.
        if "\x00" in request.path:
            return error_response(
                404, "not_found", "No page has a NUL character (%00) in its path."
            )
        try:
            query = request.GET.lists()
        except TooManyFieldsSent:
            # Django would answer its HTML 400 page: the API's clients read JSON.
            return error_response(
                400,
                "invalid",
                f"The query string has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} "
                "parameters. Ask for fewer at a time (e.g. fewer ids per request).",
            )
        if any("\x00" in key or "\x00" in value for key, values in query for value in values):
            return error_response(400, "invalid", "The query string has a NUL character (%00).")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "parse_error", "The Content-Length header is not a number.")
        if length > limit:
            return body_too_large(limit)
        if not length or request.content_type in FORM_TYPES:
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return body_too_large(limit)
        depth_limit = settings.REQUEST_MAX_JSON_DEPTH
        if body.count(b"[") + body.count(b"{") > depth_limit and json_depth(body) > depth_limit:
            return error_response(
                400,
                "parse_error",
                f"The JSON body nests arrays and objects more than {depth_limit} levels deep; "
                "no record the hub takes is nested that deeply.",
            )
        return None
