"""The connection admin keeps its secrets: never shown, never sent somewhere new unless re-typed."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from m3tersync.models import M3terConnection

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def change_url(connection):
    return reverse("admin:m3tersync_m3terconnection_change", args=[connection.pk])


def form_of(connection, **changes):
    return {
        "name": connection.name,
        "enabled": "on",
        "org_id": connection.org_id,
        "api_key_id": connection.api_key_id,
        "base_url": connection.base_url,
        "webhook_api_key": connection.webhook_api_key,
        **changes,
    }


def test_a_view_only_user_sees_hints_never_the_secrets(client, m3ter_standin, m3ter_connection):
    client.force_login(staff_with("view_m3terconnection"))

    page = client.get(change_url(m3ter_connection)).content.decode()

    assert m3ter_connection.name in page
    assert m3ter_standin.api_secret not in page
    assert m3ter_connection.decrypted_webhook_secret() not in page
    assert m3ter_connection.api_secret_hint in page


def test_moving_a_connection_to_another_address_needs_the_secret_again(
    client, m3ter_standin, m3ter_connection
):
    client.force_login(staff_with("view_m3terconnection", "change_m3terconnection"))

    response = client.post(
        change_url(m3ter_connection), form_of(m3ter_connection, base_url="https://evil.example")
    )

    assert response.status_code == 200
    assert "Enter the API secret again to change the base URL" in response.content.decode()
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.base_url == m3ter_standin.url


def test_with_the_secret_typed_again_the_address_changes(client, m3ter_connection):
    client.force_login(staff_with("view_m3terconnection", "change_m3terconnection"))

    response = client.post(
        change_url(m3ter_connection),
        form_of(m3ter_connection, base_url="https://api.eu.m3ter.com", api_secret="new-secret"),
    )

    assert response.status_code == 302
    m3ter_connection.refresh_from_db()
    assert m3ter_connection.base_url == "https://api.eu.m3ter.com"
    assert m3ter_connection.decrypted_api_secret() == "new-secret"


@pytest.mark.parametrize("base_url", ["http://m3ter.example.com", "ftp://api.m3ter.com"])
def test_the_base_url_must_be_https(admin_client, m3ter_connection, base_url):
    response = admin_client.post(
        reverse("admin:m3tersync_m3terconnection_add"),
        {**form_of(m3ter_connection, base_url=base_url), "api_secret": "s", "name": "New"},
    )

    assert response.status_code == 200
    assert "The base URL must start with https://" in response.content.decode()
    assert not M3terConnection.objects.filter(name="New").exists()
