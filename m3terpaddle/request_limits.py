"""Requests refused before any view or parser reads them, with the API's JSON error shape: a NUL
character in the path (404) or query (400), a body over the size limit (413), or JSON nested
deeper than any record of ours is (400). Every page and JSON reader (the REST API, /oauth/token,
m3ter's webhooks) is covered at once, and a parser never recurses into a hostile body."""

from itertools import accumulate

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Openers become 1 and closers -1 (as signed bytes); everything else is dropped.
BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


def error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "code": code, "errors": []}, status=status)


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings do not count).
    Runs at C speed: the hub reads bodies of tens of megabytes."""
    # With escaped backslashes and then escaped quotes gone, every other run between quotes is
    # inside a string.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(BRACKETS, NOT_BRACKETS)
    return max(accumulate(memoryview(brackets).cast("b")), default=0)


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
        if any(
            "\x00" in key or "\x00" in value
            for key, values in request.GET.lists()
            for value in values
        ):
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
