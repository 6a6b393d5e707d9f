"""Django's user and group pages: no permission (nor superuser status) is granted by someone
who lacks it."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_manager(client):
    manager = User.objects.create_user("manager", password="x", is_staff=True)
    manager.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_user", "change_user", "view_group", "change_group", "view_bill"]
        )
    )
    client.force_login(manager)
    return manager


def user_form(user, **changes):
    return {
        "username": user.username,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
        **changes,
    }


def test_a_user_manager_cannot_make_themselves_superuser(client, user_manager):
    url = reverse("admin:auth_user_change", args=[user_manager.pk])

    response = client.post(url, user_form(user_manager, is_superuser="on"))

    assert response.status_code == 200
    assert "Only a superuser can make a superuser." in response.content.decode()
    user_manager.refresh_from_db()
    assert not user_manager.is_superuser


def test_a_user_manager_grants_only_what_they_hold(client, user_manager):
    other = User.objects.create_user("other", password="x")
    url = reverse("admin:auth_user_change", args=[other.pk])
    view_bill = Permission.objects.get(codename="view_bill").pk
    add_credential = Permission.objects.get(codename="add_integrationcredential").pk

    granted = client.post(url, user_form(other, user_permissions=[view_bill]))
    refused = client.post(url, user_form(other, user_permissions=[view_bill, add_credential]))

    assert granted.status_code == 302
    assert refused.status_code == 200
    assert "credentials.add_integrationcredential" in refused.content.decode()
    assert not User.objects.get(pk=other.pk).has_perm("credentials.add_integrationcredential")


def test_a_group_gets_no_permission_its_editor_lacks(client, user_manager):
    group = Group.objects.create(name="everyone")
    user_manager.groups.add(group)
    add_credential = Permission.objects.get(codename="add_integrationcredential").pk

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "everyone", "permissions": [add_credential]},
    )

    assert response.status_code == 200
    assert not group.permissions.exists()
