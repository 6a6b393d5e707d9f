"""Property-based: schemathesis sends requests generated from the API's own OpenAPI schema
(valid and odd strings, numbers, bodies) and no answer may be a server error."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from api.tests.conftest import ORG_ID, basic
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import ExternalMappingFactory, LineItemFactory
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory, RunLogEntryFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = 25  # per operation and run; raise it locally to search harder
# All of schemathesis' checks of one answer against the schema: the schema must say what the
# server does, so that a client generated from it works.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# Collections whose PUT creates a record under an id the hub does not have yet.
UPSERTED = {"accounts", "bills"}

# Path parameters that filter a list rather than name an object.
FILTERS = {
    "entity",
    "m3terId",
    "system",
    "externalTable",
    "externalId",
    "destinationId",
    "entityId",
}


def schema_with_known_values(known: dict) -> dict:
    """The served schema with path parameters pinned to the hub's organisation and to objects
    that exist (`known`: (collection, parameter) or parameter → value), so that requests reach
    past the lookups into every endpoint. Negative cases still vary them."""
    document = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    for path, item in document["paths"].items():
        collection = path.split("/")[3] if path.startswith("/organizations/") else ""
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                name = parameter["name"]
                value = known.get((collection, name), known.get(name))
                if method == "delete" and name == "id":
                    value = None  # deleting the known objects would leave the rest nothing
                if method == "put" and name == "id" and collection in UPSERTED:
                    # PUT with an id the hub does not have creates the record, as m3ter's API
                    # does: a pinned id's "negative" variants are valid requests, not rejections.
                    value = None
                if "latest" in path and name == "id":
                    value = known["entityId"]
                if name in FILTERS:
                    value = None  # a value matching nothing is an empty list, not a rejection
                if parameter["in"] == "path" and value is not None:
                    parameter["schema"] = {"type": "string", "enum": [str(value)]}
    return document


@pytest.fixture
def in_process_app():
    """Django's WSGI app in this thread, inside the test's transaction. Like Django's test client,
    it must not close the database connection at the start and end of each request (that would
    end the test's transaction), so that receiver is held off for the length of each request."""
    handler = get_wsgi_application()

    def app(environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            body = b"".join(response)
            response.close()  # sends request_finished now, while the receiver is held off
            return [body]
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    return app


@pytest.fixture
def known():
    """Some of everything, for the pinned path parameters to name."""
    run = IntegrationRunFactory(failed=True)
    RunLogEntryFactory(run=run)
    LineItemFactory(bill=run.bill)
    # The bill's answers carry its Paddle invoice, every field filled in.
    DeliveryFactory(
        integration=run.integration,
        bill_m3ter_id=run.bill.m3ter_id,
        invoice_status="PAID",
        invoice_number="325-10001",
        invoice_status_at=run.created_at,
        issued_at=run.created_at,
        paid_at=run.created_at,
        delivered_at=run.created_at,
    )
    credential = IntegrationCredentialFactory()
    mapping = ExternalMappingFactory(integration=IntegrationConfigurationFactory())
    return {
        "orgId": ORG_ID,
        ("integrationconfigs", "id"): run.integration_id,
        ("integrationcredentials", "id"): credential.id,
        ("externalmappings", "id"): mapping.id,
        ("integrationruns", "id"): run.id,
        ("accounts", "id"): run.bill.account.m3ter_id,
        ("bills", "id"): run.bill.m3ter_id,
        "entityType": "Bill",
        "entityId": run.bill.m3ter_id,
        "destinationId": credential.id,
        "entity": mapping.m3ter_entity,
        "m3terId": mapping.m3ter_id,
        "system": mapping.external_system,
        "externalTable": mapping.external_table,
        "externalId": mapping.external_id,
    }


@pytest.fixture
def api_schema(in_process_app, known):
    schema = schemathesis.openapi.from_dict(schema_with_known_values(known))
    schema.app = in_process_app
    return schema


@pytest.fixture
def bearer(make_service_user):
    """A token of a service user allowed everything."""
    api_key, secret = make_service_user(name="schemathesis")
    response = APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def operation_cases(operation):
    """Cases that fit the schema and cases that break it (wrong types, missing fields)."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        return strategy | operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception:  # an operation with nothing to get wrong has no negative cases
        return strategy


def explore(operation, headers):
    """A bounded Hypothesis run of one operation; raises the first server error it finds."""

    @given(case=operation_cases(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def test_no_request_makes_a_server_error(api_schema, bearer):
    # schemathesis' pytest plugin (from_fixture) does not run under pytest 9, so each operation
    # gets its own bounded Hypothesis run here and every failing one is reported.
    failures = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            explore(operation, {} if operation.path == "/oauth/token" else bearer)
        except (Exception, FailureGroup) as failure:  # FailureGroup: a BaseExceptionGroup
            failures[operation.label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
