"""A new credential made from an integration's page: the destination is the integration's, and
saving connects the integration with it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credentials.models import Destination, IntegrationCredential
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.conftest import make_user
from integrations.tests.factories import IntegrationConfigurationFactory
from standins.paddle import make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_of_keys(client):
    """An editor of integrations who may also add credentials."""
    user = make_user("editor", username="keys")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="credentials", codename="add_integrationcredential"
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def integration():
    return IntegrationConfigurationFactory(name="EU invoices", destination=Destination.PADDLE)


def add_url(integration):
    return reverse("integrations:add_credential", args=[integration.pk])


def test_the_modal_links_to_a_form_with_the_integrations_destination_fixed(
    admin_of_keys, integration
):
    detail = admin_of_keys.get(reverse("integrations:detail", args=[integration.pk]))
    assert f'href="{add_url(integration)}" data-testid="add-new-credential"' in detail.text

    page = admin_of_keys.get(add_url(integration)).text
    assert '<select name="destination" class="select form-select" required disabled' in page
    assert '<option value="PADDLE" selected>Paddle</option>' in page
    assert "Saving connects <strong>EU invoices</strong> with it." in page


def test_saving_connects_the_integration_with_the_new_credential(admin_of_keys, integration):
    key = make_api_key("production")
    response = admin_of_keys.post(
        add_url(integration),
        # A destination sent anyway is ignored: the integration's is the only one that fits.
        {"name": "Live billing key", "destination": "PADDLE_SANDBOX", "api_key": key},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("integrations:detail", args=[integration.pk]), 302)]
    assert 'data-testid="connection-status">CONNECTED' in response.text
    assert "Connected to Paddle with the new credential “Live billing key”." in response.text
    integration.refresh_from_db()
    credential = integration.credential
    assert (credential.name, credential.destination) == ("Live billing key", Destination.PADDLE)
    assert credential.api_key() == key and credential.created_by.username == "keys"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"name": "Live billing key", "api_key": "abc123"}, "This is not a Paddle API key."),
        ({"name": "Taken", "api_key": make_api_key("production")}, "already exists"),
        ({"name": "Live", "api_key": make_api_key("sandbox")}, "Paddle needs a live key"),
    ],
)
def test_a_refused_credential_says_what_to_fix_and_connects_nothing(
    admin_of_keys, integration, values, problem
):
    IntegrationCredentialFactory(name="Taken")

    response = admin_of_keys.post(add_url(integration), values)

    assert response.status_code == 200
    assert problem in response.text
    assert values["api_key"] not in response.text
    assert IntegrationCredential.objects.count() == 1
    integration.refresh_from_db()
    assert integration.credential is None


def test_an_editor_who_may_not_add_credentials_is_refused(client, integration):
    client.force_login(make_user("editor"))
    assert client.get(add_url(integration)).status_code == 403
    assert client.post(add_url(integration), {"name": "x"}).status_code == 403
