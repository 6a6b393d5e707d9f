"""People for the integration pages: an editor who may do everything, a viewer who may look."""

import pytest
from django.contrib.auth.models import Permission, User

INTEGRATION_PERMISSIONS = {
    "viewer": ["view_integrationconfiguration"],
    "editor": [
        "view_integrationconfiguration",
        "add_integrationconfiguration",
        "change_integrationconfiguration",
        "delete_integrationconfiguration",
    ],
}


def make_user(role: str, username: str | None = None, password: str = "pw-for-tests-1") -> User:
    user = User.objects.create_user(username=username or role, password=password)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="integrations", codename__in=INTEGRATION_PERMISSIONS[role]
        )
    )
    return user


@pytest.fixture
def editor(db):
    return make_user("editor")


@pytest.fixture
def viewer(db):
    return make_user("viewer")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
