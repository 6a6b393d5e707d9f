"""Bodies too large or nested too deeply get a JSON 4xx that says the limit, on every endpoint
that reads JSON, before any parser touches them."""

import json

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.tests.conftest import ORG_ID, org_url
from m3terpaddle.request_limits import json_depth
from m3tersync.tests.test_inbound import SPEC_EXAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_client, settings):
    """The API as a signed-in administrator (the session works there too)."""
    settings.M3TER_ORG_ID = ORG_ID
    return admin_client

SPEC_BILL = json.loads(SPEC_EXAMPLES.read_text())["bills"][0]


def assert_json_error(response, status, *words):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"message", "code", "errors"}
    for word in words:
        assert word in body["message"]


@pytest.mark.parametrize("depth", [5_000, 50_000])
def test_deeply_nested_json_at_the_token_endpoint_is_a_400(client, depth):
    response = client.post("/oauth/token", "[" * depth, content_type="application/json")

    assert_json_error(response, 400, "more than 32 levels deep")


def test_deeply_nested_json_on_an_api_write_is_a_400(api):
    body = '{"id": "bill-1", "lineItems": ' + "[" * 50_000 + "]" * 50_000 + "}"

    response = api.put(org_url("bills/bill-1"), body, content_type="application/json")

    assert_json_error(response, 400, "more than 32 levels deep")


def test_deeply_nested_json_at_the_webhook_is_a_400_before_anything_else(client, m3ter_connection):
    response = client.post(
        f"/m3ter/webhooks/{m3ter_connection.pk}/", "{" * 5_000, content_type="application/json"
    )

    assert_json_error(response, 400, "levels deep")


def test_a_body_over_the_limit_is_a_json_413_naming_the_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    response = api.put(
        org_url("bills/bill-1"),
        json.dumps({"id": "bill-1", "padding": "x" * 2_000}),
        content_type="application/json",
    )

    assert_json_error(response, 413, "limit of 1000 bytes", "REQUEST_MAX_BODY_BYTES")


def test_the_default_limit_takes_a_bill_of_fifty_thousand_lines():
    line = SPEC_BILL["lineItems"][1]
    bill = {**SPEC_BILL, "lineItems": [{**line, "sequenceNumber": n} for n in range(50_000)]}

    size = len(json.dumps(bill).encode())

    assert 25_000_000 < size < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def nesting(value) -> int:
    if isinstance(value, list | dict):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((nesting(child) for child in children), default=0)
    return 0


TRICKY_TEXT = st.text(alphabet='ab[]{}"\\,: ', max_size=6)
JSON_VALUES = st.recursive(
    TRICKY_TEXT | st.integers() | st.none(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(TRICKY_TEXT, children, max_size=3),
    max_leaves=20,
)


@given(JSON_VALUES, st.booleans())
@hypothesis_settings(max_examples=300, deadline=None)
def test_the_scan_agrees_with_the_parsed_nesting(value, ascii_only):
    assert json_depth(json.dumps(value, ensure_ascii=ascii_only).encode()) == nesting(value)


def test_nesting_is_measured_outside_strings_only():
    assert json_depth(b'{"a": [1, {"b": "[[[{{{"}], "c": "\\\\", "d": "\\"[["}') == 3
    assert json_depth(b"[]" * 1000) == 1
    assert json_depth(b"") == 0


@pytest.mark.parametrize("url", ["/runs/?bill=%00", "/integrations/accounts/search/?q=a%00b"])
def test_a_nul_character_in_the_query_is_a_400(admin_client, url):
    assert_json_error(admin_client.get(url), 400, "NUL character")


def test_a_nul_character_in_the_path_names_nothing(admin_client):
    assert_json_error(admin_client.get("/data/bills/x%00/"), 404, "NUL character")


def test_a_nul_character_in_an_api_query_is_a_400(api):
    assert_json_error(api.get(org_url("accounts"), {"ids": "a\x00"}), 400, "NUL character")


def test_more_query_parameters_than_django_reads_is_a_json_400_saying_so(api, settings):
    ids = [f"acc-{n}" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]

    answer = api.get(org_url("accounts"), {"ids": ids})

    assert_json_error(answer, 400, "more than 1000 parameters")
