"""One error shape for every API failure, close to m3ter's ({"message": ...}):

    {"message": "what went wrong and what to do", "code": "invalid",
     "errors": [{"field": "configData.accountFilter", "message": "column 5: ..."}]}

`errors` lists the fields at fault (dotted camelCase paths, list positions in brackets) and is
empty when no single field is."""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler

from integrations.services import VersionConflict
from m3terdata.parsing import M3terRecordError
from m3terdata.services import MirrorVersionConflict
from m3terpaddle.text import sentences


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class NotOffered(exceptions.NotFound):
    """A path of m3ter's API the hub does not serve (a 404, so that clients stop there)."""

    default_code = "not_offered"


def field_errors(error: DjangoValidationError, paths: dict) -> exceptions.ValidationError:
    """A service's ValidationError (keyed by model field) as the API's field errors, keyed by
    the request's field paths (`paths` maps model field → path; unmapped names stay)."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    detail = {}
    for name, messages in error.message_dict.items():
        path = "non_field_errors" if name == NON_FIELD_ERRORS else paths.get(name, name)
        detail.setdefault(path, []).extend(messages)
    return exceptions.ValidationError(detail)


def record_error(error: M3terRecordError) -> exceptions.ValidationError:
    """A record rejected by m3terdata.parsing, as a field error on the request body."""
    return exceptions.ValidationError({error.field: [error.problem]})


def _flatten(detail, path=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                child = path
            elif isinstance(key, int):
                child = f"{path}[{key}]"
            else:
                child = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, child)
    elif isinstance(detail, list):
        for position, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                yield from _flatten(value, f"{path}[{position}]")
            else:
                yield from _flatten(value, path)
    else:
        yield path or None, str(detail)


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        problems = list(_flatten(exc.detail))
        errors = [{"field": field, "message": message} for field, message in problems if field]
        general = [message for field, message in problems if not field]
        described = general + [f"{e['field']}: {e['message']}" for e in errors]
        return {
            "message": sentences("The request is not valid", *described),
            "code": "invalid",
            "errors": errors,
        }
    detail = exc.detail
    message = (
        sentences(*(m for _, m in _flatten(detail))) if isinstance(detail, (dict, list)) else detail
    )
    return {"message": str(message), "code": exc.default_code, "errors": []}


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, VersionConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, MirrorVersionConflict):
        exc = Conflict(
            f"This record changed since you read it: it is now at version "
            f"{exc.current_version}. Read it again and send the version you read."
        )
    elif isinstance(exc, DjangoValidationError):
        exc = field_errors(exc, {})
    elif isinstance(exc, M3terRecordError):
        exc = record_error(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(exc)
    if response.status_code == 409:
        # m3ter's SDK retries a 409 (it takes it for a lock timeout); a stale version or a
        # duplicate will not get better by trying again.
        response["x-should-retry"] = "false"
    return response
