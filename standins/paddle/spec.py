"""Paddle's OpenAPI spec, cut down to what the stand-in serves, and request-body validation.

The full spec (shared/specs/paddle-openapi.yaml, 1.6 MB) lives outside the repository and takes
about a second to load, so the stand-in ships a subset: the operations it implements plus every
component they reference, without prose and examples. Regenerate it after a spec update with

    python -m standins.paddle.spec /path/to/paddle-openapi.yaml

Validation uses openapi-core against that subset, then turns jsonschema's errors into Paddle's
`errors: [{field, message}]` shape.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SUBSET_PATH = Path(__file__).with_name("paddle-openapi-subset.json")

# Operations the stand-in implements; their path items are copied whole.
SERVED_PATHS = (
    "/customers",
    "/customers/{customer_id}",
    "/customers/{customer_id}/addresses",
    "/customers/{customer_id}/businesses",
    "/customers/{customer_id}/businesses/{business_id}",
    "/customers/{customer_id}/addresses/{address_id}",
    "/transactions",
    "/transactions/preview",
    "/transactions/{transaction_id}",
    "/event-types",
    "/notification-settings",
    "/notification-settings/{notification_setting_id}",
)

# Keys that only document; dropping them shrinks the subset about tenfold.
_PROSE_KEYS = {"description", "summary", "examples", "example", "externalDocs", "tags", "title"}


def _strip(node: Any, in_properties: bool = False) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            # Inside `properties` the keys are field names (a field may be called
            # "description"), so only schema keywords are candidates for removal.
            # x-permissions stays: the stand-in refuses a key without the permission named.
            droppable = key in _PROSE_KEYS or (key.startswith("x-") and key != "x-permissions")
            if not in_properties and droppable:
                continue
            out[key] = _strip(value, in_properties=(key == "properties" and not in_properties))
        return out
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def build_subset(full: dict[str, Any]) -> dict[str, Any]:
    """Return the served operations of `full` with the components they reach, transitively."""
    paths = {path: _strip(full["paths"][path]) for path in SERVED_PATHS}
    wanted: set[str] = set()
    _refs(paths, wanted)
    components: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    while wanted - seen:
        ref = sorted(wanted - seen)[0]
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        node = _strip(full["components"][section][name])
        components.setdefault(section, {})[name] = node
        _refs(node, wanted)
    # The security scheme is needed for openapi-core to accept the document.
    components["securitySchemes"] = full["components"]["securitySchemes"]
    return {
        "openapi": full["openapi"],
        "info": {"title": full["info"]["title"], "version": full["info"]["version"]},
        "servers": full["servers"],
        "security": full.get("security", [{"bearerAuth": []}]),
        "paths": paths,
        "components": components,
    }


@cache
def spec_dict() -> dict[str, Any]:
    return json.loads(SUBSET_PATH.read_text())


@cache
def _schema_path():
    from jsonschema_path import SchemaPath

    return SchemaPath.from_dict(spec_dict())


@cache
def _body_validator():
    from openapi_core.validation.request.validators import V31RequestBodyValidator

    return V31RequestBodyValidator(_schema_path())


@cache
def _response_validator():
    from openapi_core.validation.response.validators import V31ResponseValidator

    return V31ResponseValidator(_schema_path())


@dataclass
class _SpecRequest:
    """The openapi-core request protocol, aimed at Paddle's own server URL.

    openapi-core matches the request URL against the spec's `servers`; the stand-in runs on
    127.0.0.1, so requests are presented as if they went to api.paddle.com.
    """

    method: str
    path: str
    body: bytes | None
    content_type: str = "application/json"
    host_url: str = "https://api.paddle.com"
    query: dict[str, str] = field(default_factory=dict)

    @property
    def parameters(self):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        return RequestParameters(
            query=ImmutableMultiDict(self.query), header=Headers(), cookie=ImmutableMultiDict()
        )


@dataclass
class _SpecResponse:
    status_code: int
    data: bytes
    content_type: str = "application/json"
    headers: Any = field(default_factory=dict)


def permissions(method: str, route: str) -> list[str]:
    """The API key permissions Paddle requires for an operation (its `x-permissions`)."""
    operation = spec_dict()["paths"].get(route, {}).get(method.lower(), {})
    return list(operation.get("x-permissions", []))


def warm_up() -> None:
    _body_validator()


def _field_name(path) -> str:
    """jsonschema's absolute_path as Paddle writes field names: items[0].price.name."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _message(error) -> str:
    """Paddle-style wording for the common jsonschema failures."""
    v, inst, val = error.validator, error.instance, error.validator_value
    if v == "required":
        return "must be provided as part of the request"
    if v == "minLength":
        return f"min length of {val} not met, provided value length {len(inst)}"
    if v == "maxLength":
        return f"maximum length of {val} exceeded. provided value length {len(inst)}"
    if v == "minItems":
        return f"must contain at least {val} items, provided {len(inst)}"
    if v == "maxItems":
        return f"must contain at most {val} items, provided {len(inst)}"
    if v == "minimum":
        return f"must be greater than or equal to {val}"
    if v == "maximum":
        return f"must be less than or equal to {val}"
    if v == "enum":
        return "must be one of: " + ", ".join(str(x) for x in val)
    if v == "type":
        return f"must be of type {val if isinstance(val, str) else ' or '.join(val)}"
    if v == "format":
        return f"must be a valid {val}"
    if v == "additionalProperties":
        return error.message
    if v == "pattern":
        return f"must match pattern {val}"
    return error.message


def _leaves(error) -> list:
    """The errors worth reporting under a oneOf/anyOf failure.

    A oneOf failure carries one error per branch; the branch the client meant is the one that
    got furthest into the document, so keep the deepest errors (ties kept, duplicates merged).
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    expanded = [leaf for sub in error.context for leaf in _leaves(sub)]
    # A `null` branch of a nullable field is never what the client meant.
    expanded = [e for e in expanded if not (e.validator == "type" and e.validator_value == "null")]
    if not expanded:
        return [error]
    depth = max(len(e.absolute_path) for e in expanded)
    return [e for e in expanded if len(e.absolute_path) == depth]


def validate_body(method: str, spec_path: str, body: bytes) -> list[dict[str, str]]:
    """Field errors for `body` against the spec's request body of (method, spec_path)."""
    from openapi_core.validation.request.exceptions import InvalidRequestBody

    request = _SpecRequest(method=method.lower(), path=spec_path, body=body)
    try:
        _body_validator().validate(request)
    except InvalidRequestBody as exc:
        cause = exc.__cause__
        schema_errors = getattr(cause, "schema_errors", None)
        if not schema_errors:
            return [{"field": "", "message": str(cause or exc)}]
        out: list[dict[str, str]] = []
        for error in schema_errors:
            for leaf in _leaves(error):
                item = {"field": _field_name(leaf.absolute_path), "message": _message(leaf)}
                if leaf.validator == "required":
                    missing = leaf.message.split("'")[1] if "'" in leaf.message else ""
                    base = _field_name(leaf.absolute_path)
                    item["field"] = f"{base}.{missing}" if base else missing
                if item not in out:
                    out.append(item)
        return out
    return []


def response_errors(
    method: str,
    path: str,
    query: dict[str, str],
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Why a stand-in response would not pass Paddle's response schema (empty when it does).

    For tests: it proves the stand-in answers in Paddle's shape, not just in one the SDK accepts.
    """
    from werkzeug.datastructures import Headers

    request = _SpecRequest(method=method.lower(), path=path, body=None, query=query)
    response = _SpecResponse(status_code=status, data=body, headers=Headers(headers or {}))
    errors = list(_response_validator().iter_errors(request, response))
    messages = []
    for error in errors:
        cause = error.__cause__
        for sub in getattr(cause, "schema_errors", None) or [cause or error]:
            messages.append(
                f"{_field_name(getattr(sub, 'absolute_path', []))}: {getattr(sub, 'message', sub)}"
            )
    return messages


def main(argv: list[str]) -> int:
    import yaml

    if len(argv) != 2:
        print(f"usage: python -m {__spec__.name} /path/to/paddle-openapi.yaml", file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        full = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    subset = build_subset(full)
    SUBSET_PATH.write_text(json.dumps(subset, indent=1, sort_keys=True, default=str) + "\n")
    print(f"wrote {SUBSET_PATH} ({SUBSET_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
