import pytest

from api.tests.conftest import assert_error, org_url
from credentials.models import IntegrationCredential
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory

pytestmark = pytest.mark.django_db

LIST = org_url("integrationcredentials")
KEY = "pdl_sdbx_apikey_01hv8x3ktp2z9yq4m7c6b5n0aw_abcdefghijklmnopqrstuv_ret"


def test_create_stores_the_key_encrypted_and_never_returns_it(api):
    response = api.post(
        LIST, {"name": "Sandbox key", "destination": "PADDLE_SANDBOX", "apiKey": KEY}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert KEY not in response.content.decode()
    assert "apiKey" not in body
    assert body["type"] == "PADDLE_AUTH"
    assert body["apiKeyHint"] == "…_ret"
    credential = IntegrationCredential.objects.get(pk=body["id"])
    assert credential.api_key() == KEY
    assert credential.created_by.username == "automation"


def test_a_live_key_for_the_sandbox_is_a_field_error(api):
    response = api.post(
        LIST,
        {"name": "Wrong", "destination": "PADDLE_SANDBOX", "apiKey": "pdl_live_apikey_0123456789"},
    )
    assert_error(response, 400, field="apiKey", contains="sandbox")


def test_a_key_of_the_wrong_shape_and_a_taken_name_are_field_errors(api):
    IntegrationCredentialFactory(name="Main")

    wrong = api.post(LIST, {"name": "New", "destination": "PADDLE_SANDBOX", "apiKey": "abc123"})
    taken = api.post(LIST, {"name": "Main", "destination": "PADDLE_SANDBOX", "apiKey": KEY})

    assert_error(wrong, 400, field="apiKey", contains="pdl_sdbx_apikey_")
    assert_error(taken, 400, field="name", contains="already exists")
    assert IntegrationCredential.objects.count() == 1


def test_missing_fields_and_another_type_are_named(api):
    body = assert_error(api.post(LIST, {"type": "HTTP_BASIC"}), 400)
    assert {e["field"] for e in body["errors"]} == {"type", "name", "destination", "apiKey"}


def test_list_and_get_never_show_the_key(api):
    credential = IntegrationCredentialFactory(api_key=KEY)

    listed = api.get(LIST)
    one = api.get(org_url(f"integrationcredentials/{credential.id}"))

    assert [c["id"] for c in listed.json()["data"]] == [str(credential.id)]
    assert one.json()["name"] == credential.name
    for response in (listed, one):
        assert KEY not in response.content.decode()
        assert credential.api_key_encrypted not in response.content.decode()


def test_update_renames_and_replaces_the_key(api):
    credential = IntegrationCredentialFactory()
    url = org_url(f"integrationcredentials/{credential.id}")

    renamed = api.put(url, {"name": "Renamed"})
    rekeyed = api.put(url, {"name": "Renamed", "apiKey": KEY})
    moved = api.put(url, {"name": "Renamed", "destination": "PADDLE"})

    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert rekeyed.json()["apiKeyHint"] == "…_ret"
    assert_error(moved, 400, field="destination")
    credential.refresh_from_db()
    assert credential.api_key() == KEY


def test_a_credential_in_use_cannot_be_deleted(api):
    credential = IntegrationCredentialFactory()
    IntegrationConfigurationFactory(name="Billing", credential=credential)
    url = org_url(f"integrationcredentials/{credential.id}")

    assert_error(api.delete(url), 409, contains="Billing")

    credential.integrations.update(credential=None)
    assert api.delete(url).json()["id"] == str(credential.id)
    assert not IntegrationCredential.objects.exists()
