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


def staff_with(*codenames):
    from django.contrib.auth.models import User

    user = User.objects.create_user("staff", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_nobody_grants_a_permission_they_do_not_hold(client):
    client.force_login(staff_with("add_serviceuser", "view_serviceuser"))
    every = Permission.objects.filter(content_type__app_label="credentials")

    response = client.post(
        reverse("admin:api_serviceuser_add"),
        {"name": "escalator", "permissions": [p.pk for p in every], "is_active": "on"},
    )

    assert response.status_code == 200
    assert "You cannot grant permissions you do not hold yourself" in response.content.decode()
    assert "credentials.add_integrationcredential" in response.content.decode()
    assert not ServiceUser.objects.exists()


def test_a_permission_one_holds_may_be_granted(client):
    client.force_login(staff_with("add_serviceuser", "view_serviceuser", "view_bill"))

    response = client.post(
        reverse("admin:api_serviceuser_add"),
        {
            "name": "reader",
            "permissions": [Permission.objects.get(codename="view_bill").pk],
            "is_active": "on",
        },
    )

    assert response.status_code == 200 and "Copy the API secret now" in response.content.decode()
    assert ServiceUser.objects.get().user.has_perm("m3terdata.view_bill")


def test_editing_may_keep_permissions_the_editor_lacks_but_not_add_any(client, make_service_user):
    api_key, _ = make_service_user(permissions=["credentials.*"])
    service_user = api_key.service_user
    client.force_login(staff_with("change_serviceuser", "view_serviceuser"))
    held = list(service_user.user.user_permissions.values_list("pk", flat=True))
    view_bill = Permission.objects.get(codename="view_bill").pk
    form = {
        "name": "automation",
        "description": "renamed only",
        "is_active": "on",
        "api_keys-TOTAL_FORMS": "1",
        "api_keys-INITIAL_FORMS": "1",
        "api_keys-0-id": api_key.pk,
        "api_keys-0-service_user": service_user.pk,
        "api_keys-0-active": "on",
    }
    url = reverse("admin:api_serviceuser_change", args=[service_user.pk])

    kept = client.post(url, {**form, "permissions": held})
    added = client.post(url, {**form, "permissions": [*held, view_bill]})

    assert kept.status_code == 302
    assert added.status_code == 200 and "m3terdata.view_bill" in added.content.decode()
    assert not service_user.user.has_perm("m3terdata.view_bill")


def token_of(api_key, secret):
    response = APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
    )
    return response.json()["access_token"]


def answer_to(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/organizations/4c1f3b2a-9d8e-4f70-a1b2-c3d4e5f60718/integrationconfigs")


@pytest.mark.parametrize("unticked", ["key", "service user"])
def test_unticking_active_in_the_admin_kills_tokens_for_good(
    admin_client, make_service_user, unticked
):
    api_key, secret = make_service_user()
    service_user = api_key.service_user
    token = token_of(api_key, secret)
    assert answer_to(token).status_code == 200
    url = reverse("admin:api_serviceuser_change", args=[service_user.pk])

    def save(*, user_active, key_active):
        form = {
            "name": "automation",
            "description": "",
            "permissions": list(service_user.user.user_permissions.values_list("pk", flat=True)),
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-0-id": api_key.pk,
            "api_keys-0-service_user": service_user.pk,
        }
        form.update({"is_active": "on"} if user_active else {})
        form.update({"api_keys-0-active": "on"} if key_active else {})
        assert admin_client.post(url, form).status_code == 302

    save(user_active=unticked != "service user", key_active=unticked != "key")
    save(user_active=True, key_active=True)

    assert answer_to(token).status_code == 401
    assert answer_to(token_of(api_key, secret)).status_code == 200


def test_the_service_refuses_a_grant_beyond_the_granters_own(db):
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    from api.services import permissions_from_names, service_user_create

    limited = User.objects.create_user("limited", password="x", is_staff=True)

    with pytest.raises(ValidationError, match="integrations.add_integrationconfiguration"):
        service_user_create(
            name="escalator",
            permissions=permissions_from_names(["integrations.*"]),
            created_by=limited,
        )
