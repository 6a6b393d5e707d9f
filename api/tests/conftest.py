import base64
import re

import pytest
from rest_framework.test import APIClient

from api.services import permissions_from_names, service_user_create

ORG_ID = "4c1f3b2a-9d8e-4f70-a1b2-c3d4e5f60718"
EVERY_PERMISSION = ["integrations.*", "credentials.*", "m3terdata.*", "runs.*"]


@pytest.fixture(autouse=True)
def org_id(settings):
    settings.M3TER_ORG_ID = ORG_ID
    return ORG_ID


def org_url(path: str) -> str:
    return f"/organizations/{ORG_ID}/{path}"


def basic(key_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()


@pytest.fixture
def make_service_user(db):
    def make(name="automation", permissions=EVERY_PERMISSION, is_active=True):
        _, api_key, secret = service_user_create(
            name=name, permissions=permissions_from_names(permissions), is_active=is_active
        )
        return api_key, secret

    return make


@pytest.fixture
def client_for(make_service_user):
    """An APIClient holding a bearer token of a new service user with these permissions."""

    def make(permissions=EVERY_PERMISSION, name="automation"):
        api_key, secret = make_service_user(name=name, permissions=permissions)
        client = APIClient()
        response = client.post(
            "/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        return client

    return make


@pytest.fixture
def api(client_for):
    return client_for()


def assert_error(response, status, *, field=None, contains=None):
    """The API's one error shape, with the expected field at fault."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "errors"}
    assert body["message"]
    # Composed from parts (the reason, the fields at fault), it ends each sentence once.
    assert not re.search(r"(?<!\.)\.\.(?!\.)", body["message"]), body["message"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    if contains is not None:
        assert contains in response.content.decode(), body
    return body
