"""A local HTTP stand-in for the parts of m3ter's API the pull uses.

The official `m3ter` SDK talks to it over real HTTP (`base_url=standin.url`), so tests and the
demo exercise the production code path. It reproduces what matters to the client, following
m3ter's OpenAPI spec (../shared/specs/m3ter-openapi.json):

    POST /oauth/token                                   client credentials (HTTP Basic key:secret)
    GET  /organizations/{orgId}/accounts                pageSize/nextToken, ids, codes
    GET  /organizations/{orgId}/accounts/search         searchQuery, sortBy/sortOrder, fromDocument
    GET  /organizations/{orgId}/accounts/{id}
    GET  /organizations/{orgId}/externalmappings        pageSize/nextToken, externalSystemId, ...
    GET  /organizations/{orgId}/bills                   pageSize/nextToken, ids, accountId, ...
    GET  /organizations/{orgId}/bills/search            as accounts/search
    GET  /organizations/{orgId}/bills/{id}
    GET  /organizations/{orgId}/bills/{billId}/lineitems

Errors are m3ter's `{"message": ...}`. Search results carry no line items (an assumption the
client must survive: it then fetches them). On top, what real m3ter cannot do: injected faults
(429 with Retry-After, 5xx), a request log, and state set up directly by tests:

    standin = M3terStandin().start()          # port 0 = a free port
    standin.put_account({...}); standin.put_bill({...})
    client = m3ter.M3ter(api_key=standin.api_key, api_secret=standin.api_secret,
                         org_id=standin.org_id, base_url=standin.url)
    standin.push_fault("rate_limit", path="/organizations", times=2, retry_after=0.05)
    standin.stop()
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from werkzeug.wrappers import Request

from standins import base as standin_base
from standins.base import StandinServer, json_response

from .store import Store

DEFAULT_ORG_ID = "11111111-2222-4333-8444-555555555555"
MAX_PAGE_SIZE = 100
FAULT_KINDS = ("rate_limit", "http_500")


class StandinError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = headers or {}
        super().__init__(message)


@dataclass
class Fault(standin_base.Fault):
    """A failure for the next matching request(s): `rate_limit` answers 429 with Retry-After
    (seconds, fractions allowed as the SDK reads them); `http_500` answers `status` (5xx).
    method None matches any; path is a prefix ("" matches everything); the first `after`
    matching requests pass untouched; times None = forever."""

    kinds: ClassVar[tuple[str, ...]] = FAULT_KINDS

    retry_after: float = 1.0
    status: int = 500
    after: int = 0
    seen: int = 0

    def hit(self) -> bool:
        self.seen += 1
        return self.seen > self.after and super().hit()


_ORG = r"/organizations/(?P<org_id>[^/]+)"
_ROUTES = [
    ("POST", "/oauth/token", "token"),
    ("GET", _ORG + "/accounts/search", "search_accounts"),
    ("GET", _ORG + "/accounts/(?P<id>[^/]+)", "get_account"),
    ("GET", _ORG + "/accounts", "list_accounts"),
    ("GET", _ORG + "/externalmappings", "list_external_mappings"),
    ("GET", _ORG + "/bills/search", "search_bills"),
    ("GET", _ORG + "/bills/(?P<bill_id>[^/]+)/lineitems", "list_line_items"),
    ("GET", _ORG + "/bills/(?P<id>[^/]+)", "get_bill"),
    ("GET", _ORG + "/bills", "list_bills"),
]
_COMPILED = [(method, re.compile(f"^{pattern}$"), name) for method, pattern, name in _ROUTES]
_SEARCH_TERM = re.compile(r"^(?P<field>[A-Za-z][A-Za-z0-9]*)(?P<op>>=|<=|>|<|:|~)(?P<value>.*)$")


class M3terStandin(StandinServer):
    """The stand-in server; thread-safe, one instance serves many clients and tests."""

    fault_class = Fault
    thread_name = "m3ter-standin"

    def __init__(
        self,
        *,
        org_id: str = DEFAULT_ORG_ID,
        api_key: str = "standin-access-key",
        api_secret: str = "standin-api-secret",
        token_lifetime: int = 18000,
    ) -> None:
        super().__init__()
        self.org_id = org_id
        self.api_key = api_key
        self.api_secret = api_secret
        self._initial_credentials = (api_key, api_secret)
        self.token_lifetime = token_lifetime
        # False: search ignores sortBy (list order), to check a client that relies on sorting.
        self.search_sorts = True
        self.state = Store()
        self._tokens: dict[str, float] = {}

    # --- test helpers ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget data, tokens, faults and the request log; back to the start-up settings."""
        self.state.reset()
        self.api_key, self.api_secret = self._initial_credentials
        self.search_sorts = True
        with self._lock:
            self._faults.clear()
            self._tokens.clear()
            self._log.clear()

    def put_account(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.state.put("accounts", record)

    def put_bill(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.state.put("bills", record)

    def put_external_mapping(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.state.put("externalMappings", record)

    def delete_bill(self, bill_id: str) -> None:
        self.state.delete("bills", bill_id)

    def request_count(self, route: str | None = None, *, status: int | None = None) -> int:
        """Requests seen for a route name (e.g. "search_bills", "token"), or all of them."""
        return sum(
            1
            for entry in self.requests
            if (route is None or entry["route"] == route)
            and (status is None or entry["status"] == status)
        )

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any):
        request = Request(environ)
        method, path = request.method, request.path
        route, handler, params = self._route(method, path)
        entry = self._log_request(request, route)
        try:
            self._inject_fault(method, path)
            if handler is None:
                raise StandinError(404, f"No route for {method} {path}.")
            if route != "token":
                self._authorize(request, params["org_id"])
            status, body = handler(request, params)
            response = json_response(status, body)
        except StandinError as error:
            response = json_response(error.status, {"message": error.message}, error.headers)
        entry["status"] = response.status_code
        return response(environ, start_response)

    def _route(self, method: str, path: str):
        for route_method, pattern, name in _COMPILED:
            match = pattern.match(path)
            if match and route_method == method:
                return name, getattr(self, "_h_" + name), match.groupdict()
        return None, None, {}

    def _inject_fault(self, method: str, path: str) -> None:
        fault = self._take_fault(method, path)
        if fault is None:
            return
        if fault.kind == "rate_limit":
            raise StandinError(
                429, "Rate limit exceeded.", {"Retry-After": f"{fault.retry_after:g}"}
            )
        raise StandinError(fault.status, "Internal server error.")

    def _authorize(self, request: Request, org_id: str) -> None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or expires < time.time():
            raise StandinError(401, "Unauthorized: a valid bearer token is required.")
        if org_id != self.org_id:
            raise StandinError(403, f"Access denied to organization {org_id}.")

    # --- handlers: return (status, body) --------------------------------------------------------

    def _h_token(self, request: Request, params: dict[str, str]):
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        try:
            key, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key = secret = ""
        if scheme.lower() != "basic" or (key, secret) != (self.api_key, self.api_secret):
            raise StandinError(401, "Invalid client credentials.")
        body = request.get_json(silent=True) or dict(request.form)
        if body.get("grant_type") != "client_credentials":
            raise StandinError(400, "grant_type must be client_credentials.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + self.token_lifetime
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def _h_list_accounts(self, request, params):
        records = self.state.all("accounts")
        records = _filter_in(records, "id", _csv(request, "ids"))
        records = _filter_in(records, "code", _csv(request, "codes"))
        return 200, _page(records, request)

    def _h_get_account(self, request, params):
        return 200, self._get("accounts", params["id"], "Account")

    def _h_search_accounts(self, request, params):
        return 200, _search(self.state.all("accounts"), request, sort=self.search_sorts)

    def _h_list_external_mappings(self, request, params):
        records = self.state.all("externalMappings")
        system = request.args.get("externalSystemId")
        if system:
            records = [r for r in records if r.get("externalSystem") == system]
        config = request.args.get("integrationConfigId")
        if config:
            records = [r for r in records if r.get("integrationConfigId") == config]
        records = _filter_in(records, "m3terId", _csv(request, "m3terIds"))
        return 200, _page(records, request)

    def _h_list_bills(self, request, params):
        records = self.state.all("bills")
        records = _filter_in(records, "id", _csv(request, "ids"))
        for name in ("accountId", "status", "billJobId"):
            if request.args.get(name):
                records = [r for r in records if r.get(name) == request.args[name]]
        if request.args.get("locked") in ("true", "false"):
            locked = request.args["locked"] == "true"
            records = [r for r in records if bool(r.get("locked")) == locked]
        if request.args.get("billDateStart"):
            records = [r for r in records if r.get("billDate", "") >= request.args["billDateStart"]]
        if request.args.get("billDateEnd"):
            records = [r for r in records if r.get("billDate", "") < request.args["billDateEnd"]]
        page = _page(records, request)
        if request.args.get("excludeLineItems") == "true":
            page["data"] = [_without_line_items(r) for r in page["data"]]
        return 200, page

    def _h_search_bills(self, request, params):
        result = _search(self.state.all("bills"), request, sort=self.search_sorts)
        result["data"] = [_without_line_items(r) for r in result["data"]]
        return 200, result

    def _h_get_bill(self, request, params):
        return 200, self._get("bills", params["id"], "Bill")

    def _h_list_line_items(self, request, params):
        bill = self._get("bills", params["bill_id"], "Bill")
        items = [{**item, "billId": bill["id"]} for item in bill.get("lineItems") or []]
        return 200, _page(items, request)

    def _get(self, collection: str, record_id: str, label: str) -> dict[str, Any]:
        record = self.state.get(collection, record_id)
        if record is None:
            raise StandinError(404, f"{label} with id {record_id} not found.")
        return record


def _csv(request: Request, name: str) -> list[str]:
    # The SDK sends arrays comma-separated; repeated parameters work too.
    return [part for value in request.args.getlist(name) for part in value.split(",") if part]


def _filter_in(records, key, values):
    return [r for r in records if r.get(key) in values] if values else records


def _without_line_items(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "lineItems"}


def _page_size(request: Request, default: int) -> int:
    raw = request.args.get("pageSize")
    try:
        size = int(raw) if raw is not None else default
    except ValueError:
        raise StandinError(400, f"pageSize must be a whole number, got {raw!r}.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise StandinError(400, f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def _page(records: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """One page of a list, with m3ter's opaque `nextToken` when more follow."""
    size = _page_size(request, MAX_PAGE_SIZE)
    token = request.args.get("nextToken")
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise StandinError(400, "Invalid nextToken.") from None
    data = records[offset : offset + size]
    body: dict[str, Any] = {"data": data}
    if offset + size < len(records):
        body["nextToken"] = base64.urlsafe_b64encode(f"offset:{offset + size}".encode()).decode()
    return body


def _search(records: list[dict[str, Any]], request: Request, *, sort: bool) -> dict[str, Any]:
    """m3ter's search: `field>value$field:value` terms, sortBy any field, fromDocument offset."""
    terms = [t for t in (request.args.get("searchQuery") or "").split("$") if t]
    combine = all if (request.args.get("operator") or "AND").upper() == "AND" else any
    matchers = []
    for term in terms:
        match = _SEARCH_TERM.match(term)
        if match is None:
            raise StandinError(400, f"Invalid search term {term!r}.")
        matchers.append(match.groupdict())
    if matchers:
        records = [r for r in records if combine(_term_matches(r, m) for m in matchers)]
    sort_by = request.args.get("sortBy")
    if sort_by and sort:
        descending = (request.args.get("sortOrder") or "ASC").upper() == "DESC"
        records = sorted(records, key=lambda r: str(r.get(sort_by, "")), reverse=descending)
    size = _page_size(request, 10)
    try:
        offset = int(request.args.get("fromDocument") or 0)
    except ValueError:
        raise StandinError(400, "fromDocument must be a whole number.") from None
    data = records[offset : offset + size]
    body: dict[str, Any] = {"data": data}
    if offset + size < len(records):
        body["nextToken"] = str(offset + size)
    return body


def _term_matches(record: dict[str, Any], term: dict[str, str]) -> bool:
    value, wanted, op = str(record.get(term["field"], "")), term["value"], term["op"]
    return {
        ":": value == wanted,
        "~": value.startswith(wanted),
        ">": value > wanted,
        ">=": value >= wanted,
        "<": value < wanted,
        "<=": value <= wanted,
    }[op]
