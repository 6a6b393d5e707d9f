import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiKey, ServiceUser
from api.services import access_token_issue
from api.tests.conftest import basic

pytestmark = pytest.mark.django_db


def shown_secret(response):
    page = response.content.decode()
    key_id = re.search(r'data-testid="key-id">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="secret">([^<]+)<', page).group(1)
    return key_id, secret


def test_adding_a_service_user_shows_its_secret_once_and_it_works(admin_client):
    view = Permission.objects.get(codename="view_integrationconfiguration")

    response = admin_client.post(
        reverse("admin:api_serviceuser_add"),
        {
            "name": "billing-sync",
            "description": "Nightly sync",
            "permissions": [view.pk],
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key_id, secret = shown_secret(response)
    service_user = ServiceUser.objects.get()
    assert service_user.user.username == "billing-sync"
    assert not service_user.user.has_usable_password()
    assert list(service_user.user.user_permissions.all()) == [view]
    api_key = ApiKey.objects.get()
    assert api_key.key_id == key_id
    assert secret not in api_key.secret_digest
    token = APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(key_id, secret),
    )
    assert token.status_code == 200

    change = admin_client.get(reverse("admin:api_serviceuser_change", args=[service_user.pk]))
    assert change.status_code == 200
    assert key_id in change.content.decode()
    assert secret not in change.content.decode()


def test_a_taken_name_is_a_form_error(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:api_serviceuser_add"), {"name": admin_user.username, "is_active": "on"}
    )
    assert response.status_code == 200
    assert "exists already" in response.content.decode()
    assert not ServiceUser.objects.exists()


def test_the_new_key_action_shows_a_new_secret(admin_client, make_service_user):
    api_key, _ = make_service_user()

    response = admin_client.post(
        reverse("admin:api_serviceuser_changelist"),
        {"action": "make_api_key", "_selected_action": [api_key.service_user.pk]},
    )

    key_id, secret = shown_secret(response)
    assert key_id != api_key.key_id
    assert ApiKey.objects.get(key_id=key_id).secret_matches(secret)


def test_editing_deactivates_and_changes_permissions(admin_client, make_service_user):
    api_key, _ = make_service_user()
    service_user = api_key.service_user

    response = admin_client.post(
        reverse("admin:api_serviceuser_change", args=[service_user.pk]),
        {
            "name": "renamed",
            "description": "",
            "permissions": [],
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-0-id": api_key.pk,
            "api_keys-0-service_user": service_user.pk,
            "api_keys-0-active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    service_user.user.refresh_from_db()
    assert service_user.user.username == "renamed"
    assert service_user.user.is_active is False
    assert not service_user.user.user_permissions.exists()


def test_unticking_active_in_the_inline_revokes_the_key_and_its_tokens(
    admin_client, make_service_user
):
    api_key, secret = make_service_user()
    service_user = api_key.service_user
    access_token_issue(key_id=api_key.key_id, secret=secret)

    response = admin_client.post(
        reverse("admin:api_serviceuser_change", args=[service_user.pk]),
        {
            "name": service_user.user.username,
            "description": "",
            "permissions": [],
            "is_active": "on",
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-0-id": api_key.pk,
            "api_keys-0-service_user": service_user.pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    api_key.refresh_from_db()
    assert api_key.active is False
    assert not api_key.access_tokens.exists()
