"""Paddle's errors → the outcomes the run engine acts on (responses built locally, parsed by the
SDK's own ResponseParser, so the ApiError is exactly what the SDK raises)."""

import json
from email.utils import format_datetime

import pytest
import requests
from django.utils import timezone
from paddle_billing.ResponseParser import ResponseParser

from paddle_destination.errors import (
    PaddleProblem,
    PaddleProblemKind,
    paddle_errors,
    permission_needed,
    problem_from_exception,
)


def response(status, code=None, detail="", errors=None, headers=None, body=None):
    r = requests.Response()
    r.status_code = status
    r.reason = {502: "Bad Gateway"}.get(status, "")
    r.headers.update(headers or {})
    if body is None:
        error = {
            "type": "request_error",
            "code": code,
            "detail": detail,
            "documentation_url": f"https://developer.paddle.com/errors/shared/{code}",
        }
        if errors:
            error["errors"] = errors
        body = json.dumps({"error": error, "meta": {"request_id": "req-123"}})
    r._content = body.encode()
    return r


def api_error(*args, **kwargs):
    return ResponseParser(response(*args, **kwargs)).get_error()


def problem(exc, action="creating the transaction"):
    return problem_from_exception(exc, action=action)


def test_the_contract_kinds():
    assert set(PaddleProblemKind.values) == {
        "AUTHENTICATION",
        "RATE_LIMITED",
        "INVALID_REQUEST",
        "TRANSIENT",
        "IMMUTABLE",
        "NOT_FOUND",
        "UNSUPPORTED_BILL",
        "MISSING_MAPPING",
        "UNAVAILABLE",
    }
    p = PaddleProblem(PaddleProblemKind.NOT_FOUND, "gone", hint="look")
    assert str(p) == "gone"
    assert (p.retry_after, p.field_errors, p.request_id) == (None, [], None)


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (403, "invalid_token", "Create a new key in Paddle"),
        (403, "authentication_malformed", "not shaped like a Paddle API key"),
        (401, "unauthorized", "replace it if it was revoked"),
    ],
)
def test_authentication(status, code, hint):
    p = problem(api_error(status, code, "Invalid or revoked API key."))
    assert p.kind == PaddleProblemKind.AUTHENTICATION
    assert f"Paddle answered {status} {code}: Invalid or revoked API key." in p.message
    assert p.message.startswith("While creating the transaction, Paddle answered")
    assert hint in p.hint
    assert p.request_id == "req-123"


def test_rate_limited_with_retry_after_seconds():
    p = problem(api_error(429, "too_many_requests", "slow down", headers={"Retry-After": "12"}))
    assert p.kind == PaddleProblemKind.RATE_LIMITED
    assert p.retry_after == 12.0


def test_rate_limited_with_retry_after_as_a_date_or_missing():
    when = format_datetime(timezone.now() + timezone.timedelta(seconds=30), usegmt=True)
    dated = response(429, body="{}", headers={"Retry-After": when})
    p = problem(requests.HTTPError(response=dated))
    assert p.kind == PaddleProblemKind.RATE_LIMITED
    assert 25 < p.retry_after <= 30

    assert problem(api_error(429, "too_many_requests", "x")).retry_after == 60.0


def test_invalid_request_carries_paddles_field_errors():
    errors = [
        {"field": "items[0].price.unit_price.amount", "message": "must be a valid integer"},
        {"field": "billing_details", "message": "is required"},
    ]
    p = problem(api_error(400, "invalid_field", "Request does not pass validation.", errors))
    assert p.kind == PaddleProblemKind.INVALID_REQUEST
    assert p.field_errors == errors
    assert "items[0].price.unit_price.amount: must be a valid integer" in p.message
    assert p.code == "invalid_field" and p.status == 400


@pytest.mark.parametrize("status", [409, 415, 422])
def test_other_client_errors_are_invalid_requests(status):
    assert problem(api_error(status, "bad_request", "x")).kind == PaddleProblemKind.INVALID_REQUEST


def test_transaction_immutable():
    p = problem(api_error(400, "transaction_immutable", "Cannot update immutable transaction"))
    assert p.kind == PaddleProblemKind.IMMUTABLE
    assert "already issued" in p.hint


def test_not_found():
    assert problem(api_error(404, "not_found", "Entity txn_1 not found")).kind == "NOT_FOUND"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status):
    assert problem(api_error(status, "internal_error", "x")).kind == PaddleProblemKind.TRANSIENT


def test_a_non_json_gateway_error_is_transient():
    html = response(502, body="<html>Bad gateway</html>")
    assert ResponseParser(html).get_error() is None  # the SDK re-raises requests' HTTPError
    p = problem(requests.HTTPError(response=html))
    assert p.kind == PaddleProblemKind.TRANSIENT
    assert "502 Bad Gateway" in p.message and "<html>" not in p.message


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (requests.ReadTimeout(), "did not answer in time"),
        (requests.ConnectTimeout(), "did not answer in time"),
        (requests.ConnectionError(), "connection to Paddle failed"),
        (requests.exceptions.ChunkedEncodingError(), "ChunkedEncodingError"),
    ],
)
def test_timeouts_and_connection_errors_are_transient(exc, words):
    p = problem(exc)
    assert p.kind == PaddleProblemKind.TRANSIENT
    assert words in p.message
    assert p.status is None


def test_paddle_errors_translates_and_chains_but_lets_other_errors_through():
    original = api_error(404, "not_found", "x")
    with pytest.raises(PaddleProblem) as caught, paddle_errors("reading the transaction"):
        raise original
    assert caught.value.__cause__ is original
    assert caught.value.message.startswith("While reading the transaction,")

    with pytest.raises(KeyError), paddle_errors("anything"):
        raise KeyError("a bug, not Paddle")


def test_as_dict_is_log_safe():
    data = problem(
        api_error(400, "invalid_field", "bad", [{"field": "a", "message": "b"}])
    ).as_dict()
    assert data["kind"] == "INVALID_REQUEST"
    assert data["field_errors"] == [{"field": "a", "message": "b"}]
    assert json.dumps(data)


def test_forbidden_names_the_permission_the_request_needed():
    refused = response(403, "forbidden", "You aren't permitted to perform this request.")
    refused.request = requests.Request(
        "POST", "https://api.paddle.com/customers/ctm_01h00000000000000000000000/addresses"
    ).prepare()

    p = problem(ResponseParser(refused).get_error(), action="creating the customer's address")

    assert p.kind == PaddleProblemKind.AUTHENTICATION
    assert "the key lacks the permission address.write for this request" in p.hint
    assert "transaction.write" in p.hint and "other environment" in p.hint


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/customers", "customer.read"),
        ("PATCH", "/customers/ctm_1", "customer.write"),
        ("GET", "/customers/ctm_1/addresses", "address.read"),
        ("POST", "/customers/ctm_1/businesses", "business.write"),
        ("POST", "/transactions", "transaction.write"),
        ("POST", "/transactions/preview", "transaction.read"),
        ("GET", "/transactions/txn_1", "transaction.read"),
    ],
)
def test_permission_needed_per_request(method, path, permission):
    assert permission_needed(method, path) == permission


@pytest.mark.parametrize(
    ("status", "code", "where"),
    [
        (400, "transaction_default_checkout_url_not_set", "Checkout › Checkout settings"),
        (400, "transaction_customer_not_suitable_for_collection_mode", "name in m3ter"),
        (400, "transaction_address_not_suitable_for_collection_mode", "address in m3ter"),
        (400, "transaction_billing_period_starts_at_greater_than_now", "server's time"),
        (400, "product_tax_category_not_approved", "Tax category standard"),
        (403, "paddle_billing_not_enabled", "Finish onboarding"),
    ],
)
def test_each_setup_error_says_where_to_fix_it(status, code, where):
    p = problem(api_error(status, code, "Refused."))

    assert where in p.hint
    assert p.kind == (
        PaddleProblemKind.AUTHENTICATION if status == 403 else PaddleProblemKind.INVALID_REQUEST
    )


@pytest.mark.parametrize("code", ["concurrent_modification", "conflict"])
def test_concurrent_changes_are_transient(code):
    p = problem(api_error(409, code, "There were multiple concurrent requests."))
    assert p.kind == PaddleProblemKind.TRANSIENT
    assert "retried automatically" in p.hint


def test_429_says_the_hubs_address_is_rate_limited():
    p = problem(api_error(429, "too_many_requests", "IP address exceeded the rate limit."))
    assert "this hub's address passed the limit" in p.hint
