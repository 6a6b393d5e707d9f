"""m3ter's authentication: client credentials → bearer token → Django permissions."""

import datetime
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import AccessToken
from api.services import api_key_revoke
from api.tests.conftest import assert_error, basic, org_url
from integrations.tests.factories import IntegrationConfigurationFactory

pytestmark = pytest.mark.django_db

LIST = org_url("integrationconfigs")


def token_for(api_key, secret, **kwargs):
    return APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
        **kwargs,
    )


def test_client_credentials_buy_a_bearer_token_like_m3ters(make_service_user, settings):
    settings.API_TOKEN_LIFETIME_SECONDS = 600
    api_key, secret = make_service_user()

    response = token_for(api_key, secret)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert response["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    assert body["access_token"] not in stored.token_digest
    assert stored.expires_at > timezone.now() + datetime.timedelta(seconds=590)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_the_token_request_may_be_a_form_as_in_m3ters_curl_example(make_service_user):
    api_key, secret = make_service_user()
    response = APIClient().post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
    )
    assert response.status_code == 200, response.content


def test_the_key_may_be_sent_in_the_body_as_oauth_allows(make_service_user):
    api_key, secret = make_service_user()
    response = APIClient().post(
        "/oauth/token",
        urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": api_key.key_id,
                "client_secret": secret,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content


def test_a_wrong_secret_is_refused(make_service_user):
    api_key, _ = make_service_user()
    response = token_for(api_key, "wrong")
    assert_error(response, 401, contains="do not match")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not AccessToken.objects.exists()


def test_a_key_keeps_only_a_digest_and_the_last_four_of_its_secret(make_service_user):
    api_key, secret = make_service_user()
    assert secret not in api_key.secret_digest
    assert api_key.secret_hint == f"…{secret[-4:]}"


def test_no_basic_credentials_says_how_to_send_them(db):
    response = APIClient().post("/oauth/token", {"grant_type": "client_credentials"})
    assert_error(response, 401, contains="curl -u KEY_ID:SECRET")


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + "bm9jb2xvbg==", "Bearer abc"])
def test_malformed_basic_credentials_are_refused(db, header):
    response = APIClient().post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=header
    )
    assert_error(response, 401)


def test_only_the_client_credentials_grant_is_supported(make_service_user):
    api_key, secret = make_service_user()
    response = APIClient().post(
        "/oauth/token", {"grant_type": "password"}, HTTP_AUTHORIZATION=basic(api_key.key_id, secret)
    )
    assert_error(response, 400, field="grant_type")


def test_a_revoked_key_gets_no_token_and_its_tokens_stop(make_service_user):
    api_key, secret = make_service_user()
    token = token_for(api_key, secret).json()["access_token"]

    api_key_revoke(api_key=api_key)

    assert token_for(api_key, secret).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(client.get(LIST), 401, contains="expired or revoked")


def test_an_inactive_service_user_gets_no_token(make_service_user):
    api_key, secret = make_service_user(is_active=False)
    assert token_for(api_key, secret).status_code == 401


def test_an_expired_token_is_refused(api):
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert_error(api.get(LIST), 401, contains="POST /oauth/token")


def test_expired_tokens_are_cleared_when_the_key_gets_a_new_one(make_service_user):
    api_key, secret = make_service_user()
    token_for(api_key, secret)
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    token_for(api_key, secret)

    assert AccessToken.objects.count() == 1


def test_no_token_is_a_401_that_names_the_scheme(db):
    response = APIClient().get(LIST)
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer two parts", "Bearer unknown-token"])
def test_a_bad_bearer_header_is_a_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(LIST), 401)


def test_reading_needs_the_view_permission(client_for):
    IntegrationConfigurationFactory()
    no_view = client_for(permissions=["integrations.add_integrationconfiguration"], name="a")
    viewer = client_for(permissions=["integrations.view_integrationconfiguration"], name="b")

    body = assert_error(no_view.get(LIST), 403)
    assert "integrations.view_integrationconfiguration" in body["message"]
    assert viewer.get(LIST).status_code == 200


def test_a_viewer_cannot_write(client_for):
    integration = IntegrationConfigurationFactory()
    viewer = client_for(permissions=["integrations.view_integrationconfiguration"])

    assert_error(viewer.delete(org_url(f"integrationconfigs/{integration.id}")), 403)
    body = assert_error(viewer.post(org_url(f"integrationconfigs/{integration.id}/disable")), 403)
    assert "integrations.change_integrationconfiguration" in body["message"]
    integration.refresh_from_db()
    assert integration.enabled


def test_a_person_logged_in_to_the_site_can_use_the_api(admin_client):
    assert admin_client.get(LIST).status_code == 200


@pytest.mark.parametrize("other_org", ["00000000-0000-0000-0000-000000000001", "not-an-org", "ORG"])
def test_any_other_organization_is_a_404(api, other_org):
    IntegrationConfigurationFactory()
    body = assert_error(api.get(f"/organizations/{other_org}/integrationconfigs"), 404)
    assert other_org in body["message"]


def test_the_organization_id_is_not_case_sensitive(api, org_id):
    assert api.get(f"/organizations/{org_id.upper()}/integrationconfigs").status_code == 200
