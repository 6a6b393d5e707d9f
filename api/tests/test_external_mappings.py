import pytest

from api.tests.conftest import assert_error, org_url
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.models import ExternalMapping
from m3terdata.tests.factories import ExternalMappingFactory

pytestmark = pytest.mark.django_db

LIST = org_url("externalmappings")


def mapping_body(**overrides):
    return {
        "m3terEntity": "Account",
        "m3terId": "acc-1",
        "externalSystem": "Paddle",
        "externalTable": "Customer",
        "externalId": "ctm_01abc",
        **overrides,
    }


def test_create_makes_version_one_in_m3ters_shape(api):
    integration = IntegrationConfigurationFactory()

    response = api.post(LIST, mapping_body(integrationConfigId=str(integration.id)))

    assert response.status_code == 200, response.content
    body = response.json()
    mapping = ExternalMapping.objects.get(pk=body["id"])
    assert mapping.integration == integration
    assert body["version"] == 1
    assert body["integrationConfigId"] == str(integration.id)
    assert {key: body[key] for key in mapping_body()} == mapping_body()
    assert {"dtCreated", "dtLastModified"} <= set(body)


def test_a_second_mapping_of_the_same_entity_is_a_conflict(api):
    api.post(LIST, mapping_body())
    body = assert_error(api.post(LIST, mapping_body(externalId="ctm_other")), 409)
    assert "exists already" in body["message"]
    assert ExternalMapping.objects.count() == 1


def test_missing_and_blank_fields_are_named(api):
    body = assert_error(api.post(LIST, {"m3terEntity": " ", "externalId": "x"}), 400)
    assert {e["field"] for e in body["errors"]} == {
        "m3terEntity",
        "m3terId",
        "externalSystem",
        "externalTable",
    }


def test_an_unknown_integration_is_a_field_error(api):
    response = api.post(
        LIST, mapping_body(integrationConfigId="5f0c6f7e-0000-4000-8000-000000000000")
    )
    assert_error(response, 400, field="integrationConfigId")


def test_update_checks_the_version(api):
    mapping = ExternalMappingFactory()
    url = org_url(f"externalmappings/{mapping.id}")

    updated = api.put(url, mapping_body(version=1, externalId="ctm_new"))
    stale = api.put(url, mapping_body(version=1, externalId="ctm_lost"))
    missing = api.put(url, mapping_body())

    assert updated.status_code == 200, updated.content
    assert updated.json()["version"] == 2
    assert_error(stale, 409, contains="version 2")
    assert_error(missing, 400, field="version")
    mapping.refresh_from_db()
    assert (mapping.external_id, mapping.version) == ("ctm_new", 2)


def test_get_and_delete(api):
    mapping = ExternalMappingFactory()
    url = org_url(f"externalmappings/{mapping.id}")

    assert api.get(url).json()["externalId"] == mapping.external_id
    assert api.delete(url).json()["id"] == str(mapping.id)
    assert_error(api.get(url), 404)


def test_list_filters(api):
    integration = IntegrationConfigurationFactory()
    first = ExternalMappingFactory(m3ter_id="a1", integration=integration)
    second = ExternalMappingFactory(m3ter_id="a2")
    ExternalMappingFactory(m3ter_id="a3", external_system="Stripe")

    def ids(params):
        return {item["id"] for item in api.get(LIST, params).json()["data"]}

    assert ids({"m3terIds": "a1,a2"}) == {str(first.id), str(second.id)}
    assert ids({"externalSystemId": "Stripe"}) == ids({"m3terIds": "a3"})
    assert ids({"integrationConfigId": str(integration.id)}) == {str(first.id)}
    assert_error(api.get(LIST, {"integrationConfigId": "nope"}), 400, field="integrationConfigId")


def test_lookups_by_m3ter_entity_and_by_external_entity(api):
    mapping = ExternalMappingFactory(m3ter_id="acc-9", external_id="ctm_9")
    ExternalMappingFactory()

    by_m3ter = api.get(org_url("externalmappings/external/Account/acc-9")).json()
    by_external = api.get(org_url("externalmappings/externalid/Paddle/Customer/ctm_9")).json()
    nothing = api.get(org_url("externalmappings/externalid/Paddle/Customer/ctm_none")).json()

    assert [m["id"] for m in by_m3ter["data"]] == [str(mapping.id)]
    assert [m["id"] for m in by_external["data"]] == [str(mapping.id)]
    assert nothing == {"data": []}
