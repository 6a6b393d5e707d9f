"""The OpenAPI schema and the interactive docs, and how the paths line up with m3ter's spec."""

import json

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from api.tests.conftest import assert_error, org_url

pytestmark = pytest.mark.django_db

# The operations of m3ter's spec (shared/specs/m3ter-openapi.json, 2026 snapshot) the hub serves,
# with m3ter's path and method. The hub adds others (disable, retry, replay, credentials, bill
# writes, every run).
M3TER_OPERATIONS = {
    "GetIntegrationConfigs": ("/organizations/{orgId}/integrationconfigs", "get"),
    "PostIntegrationConfig": ("/organizations/{orgId}/integrationconfigs", "post"),
    "GetIntegrationConfig": ("/organizations/{orgId}/integrationconfigs/{id}", "get"),
    "UpdateIntegrationConfig": ("/organizations/{orgId}/integrationconfigs/{id}", "put"),
    "DeleteIntegrationConfig": ("/organizations/{orgId}/integrationconfigs/{id}", "delete"),
    "EnableIntegrationConfig": ("/organizations/{orgId}/integrationconfigs/{id}/enable", "post"),
    "GetIntegrationConfigForType": (
        "/organizations/{orgId}/integrationconfigs/entity/{entityType}",
        "get",
    ),
    "ListExternalMappings": ("/organizations/{orgId}/externalmappings", "get"),
    "CreateExternalMapping": ("/organizations/{orgId}/externalmappings", "post"),
    "GetExternalMapping": ("/organizations/{orgId}/externalmappings/{id}", "get"),
    "UpdateExternalMapping": ("/organizations/{orgId}/externalmappings/{id}", "put"),
    "DeleteExternalMapping": ("/organizations/{orgId}/externalmappings/{id}", "delete"),
    "ListExternalMappingsForM3terEntity": (
        "/organizations/{orgId}/externalmappings/external/{entity}/{m3terId}",
        "get",
    ),
    "ListExternalMappingsForExternalSystemAndEntity": (
        "/organizations/{orgId}/externalmappings/externalid/{system}/{externalTable}/{externalId}",
        "get",
    ),
    "ListIntegrationRuns": (
        "/organizations/{orgId}/integrationruns/{entityType}/{entityId}",
        "get",
    ),
    "GetIntegrationRun": ("/organizations/{orgId}/integrationruns/{id}", "get"),
    "GetIntegrationRunLatest": (
        "/organizations/{orgId}/integrationruns/{entityType}/latest/{id}",
        "get",
    ),
    "GetIntegrationRunLatestForIds": (
        "/organizations/{orgId}/integrationruns/{entityType}/latest",
        "get",
    ),
    "GetIntegrationRunLogs": ("/organizations/{orgId}/integrationruns/logs/{id}", "get"),
    "ListIntegrationRunsByDestinationId": (
        "/organizations/{orgId}/integrationruns/destinations/{destinationId}",
        "get",
    ),
    "ListAccounts": ("/organizations/{orgId}/accounts", "get"),
    "PostAccount": ("/organizations/{orgId}/accounts", "post"),
    "GetAccount": ("/organizations/{orgId}/accounts/{id}", "get"),
    "PutAccount": ("/organizations/{orgId}/accounts/{id}", "put"),
    "ListBills": ("/organizations/{orgId}/bills", "get"),
    "GetBill": ("/organizations/{orgId}/bills/{id}", "get"),
    "GenerateToken": ("/oauth/token", "post"),
}


def operations(spec):
    return {
        op["operationId"]: (path, method)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_has_m3ters_paths_and_operation_ids(schema):
    ours = operations(schema)
    assert {name: ours.get(name) for name in M3TER_OPERATIONS} == M3TER_OPERATIONS


def test_schema_documents_bearer_tokens_from_the_token_url(schema):
    scheme = schema["components"]["securitySchemes"]["OAuth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"


def test_every_paths_org_id_example_is_the_organization_the_hub_serves(settings):
    # Swagger UI's "Try it out" fills the path in with it: a newcomer's first call is not a 404.
    settings.M3TER_ORG_ID = "9e8d7c6b-0000-4000-8000-000000000001"
    spec = APIClient().get("/api/schema/", {"format": "json"}).json()

    org_ids = [
        parameter
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "orgId"
    ]
    org_paths = [path for path in spec["paths"] if "{orgId}" in path]

    assert len(org_ids) >= len(org_paths) > 20
    assert {p.get("example") for p in org_ids} == {settings.M3TER_ORG_ID}


def test_docs_page_uses_installed_swagger_ui_not_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_malformed_json_is_a_400_in_the_error_shape(api):
    response = api.generic(
        "POST", org_url("integrationconfigs"), "{not json", content_type="application/json"
    )
    body = assert_error(response, 400)
    assert body["code"] == "parse_error"


def test_another_media_type_is_a_415_in_the_error_shape(api):
    response = api.generic(
        "POST", org_url("integrationconfigs"), "name=x", content_type="text/plain"
    )
    assert_error(response, 415)


def test_a_method_the_path_lacks_is_a_405_in_the_error_shape(api):
    assert_error(api.patch(org_url("integrationconfigs"), {}), 405)


def test_a_body_that_is_not_an_object_is_a_400(api):
    assert_error(api.post(org_url("externalmappings"), [1]), 400)
    assert_error(api.post(org_url("accounts"), "text"), 400, contains="JSON object")


def test_nul_characters_are_refused_rather_than_reaching_the_database(api):
    # PostgreSQL cannot store or even compare a NUL character; each of these would be a 500.
    assert_error(api.get(org_url("integrationruns/Bill/a%00b")), 404)
    assert_error(api.get(org_url("externalmappings"), {"externalSystemId": "a\x00"}), 400)
    assert_error(api.post(org_url("accounts"), {"code": "a", "name": "b\x00"}), 400, field="name")
    response = api.post(
        org_url("accounts"), {"code": "a", "name": "b", "customFields": {"k": "v\x00"}}
    )
    assert_error(response, 400, field="customFields.k")


def test_numbers_too_large_for_the_database_are_refused(api):
    response = api.post(
        org_url("accounts"),
        {"code": "a", "name": "b", "version": 2**70, "daysBeforeBillDue": 2**40},
    )
    body = assert_error(response, 400)
    assert {e["field"] for e in body["errors"]} == {"version", "daysBeforeBillDue"}
    bill = {
        "accountId": "x",
        "currency": "USD",
        "lineItems": [{"lineItemType": "USAGE", "subtotal": "1e20"}],
    }
    assert_error(api.post(org_url("bills"), bill), 400, field="lineItems[0].subtotal")
