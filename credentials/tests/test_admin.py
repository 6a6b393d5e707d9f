"""The credential admin pages, through Django's test client."""

import pytest
from django.urls import reverse

from credentials.models import Destination, IntegrationCredential
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from standins.paddle import make_api_key

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:credentials_integrationcredential_changelist")
ADD = reverse("admin:credentials_integrationcredential_add")


def change_url(credential):
    return reverse("admin:credentials_integrationcredential_change", args=[credential.pk])


def connection_test_url(credential):
    return reverse("admin:credentials_integrationcredential_test_connection", args=[credential.pk])


def page(response):
    return response.content.decode()


def test_list_shows_name_destination_hint_users_and_last_test_never_the_key(
    admin_client, django_assert_max_num_queries
):
    key = make_api_key("sandbox")
    credential = IntegrationCredentialFactory(name="Sandbox main", api_key=key)
    IntegrationConfigurationFactory(name="EU invoices", credential=credential)
    IntegrationConfigurationFactory(name="US invoices", credential=credential)
    for _ in range(5):
        IntegrationConfigurationFactory(credential=IntegrationCredentialFactory())

    with django_assert_max_num_queries(12):  # not one query per row
        response = admin_client.get(CHANGELIST)

    html = page(response)
    assert response.status_code == 200
    for text in ("Sandbox main", "Paddle (Sandbox Mode)", credential.api_key_hint,
                 "EU invoices, US invoices", "Never tested"):  # fmt: skip
        assert text in html
    assert key not in html and credential.api_key_encrypted not in html


def test_add_page_asks_for_the_key_in_a_password_input(admin_client):
    html = page(admin_client.get(ADD))
    assert 'type="password" name="api_key"' in html
    assert "Paddle (Sandbox Mode)" in html
    assert "never shown again" in html


def test_adding_stores_the_key_encrypted_and_returns_to_the_list(admin_client):
    key = make_api_key("sandbox")
    response = admin_client.post(
        ADD, {"name": "Sandbox", "destination": Destination.PADDLE_SANDBOX, "api_key": key}
    )

    assert response.status_code == 302 and response.url == CHANGELIST
    credential = IntegrationCredential.objects.get()
    assert credential.api_key() == key
    assert credential.created_by.is_superuser
    assert key not in page(admin_client.get(change_url(credential)))


def test_a_key_for_the_other_environment_is_refused_with_a_clear_message(admin_client):
    key = make_api_key("sandbox")
    response = admin_client.post(
        ADD, {"name": "Live", "destination": Destination.PADDLE, "api_key": key}
    )

    html = page(response)
    assert response.status_code == 200
    assert "Paddle needs a live key (pdl_live_…)" in html
    assert key not in html  # the password input is not filled back in
    assert not IntegrationCredential.objects.exists()


def test_a_name_already_taken_is_refused_on_the_name(admin_client):
    IntegrationCredentialFactory(name="Sandbox")
    response = admin_client.post(
        ADD,
        {
            "name": "Sandbox",
            "destination": Destination.PADDLE_SANDBOX,
            "api_key": make_api_key("sandbox"),
        },
    )

    assert response.status_code == 200
    assert "A credential with this name already exists." in page(response)
    assert IntegrationCredential.objects.count() == 1


def test_add_opened_from_an_integration_returns_there(admin_client):
    integration = IntegrationConfigurationFactory()
    back = reverse("integrations:detail", args=[integration.pk])

    response = admin_client.post(
        f"{ADD}?next={back}",
        {"name": "New", "destination": Destination.PADDLE_SANDBOX, "api_key": make_api_key()},
    )

    assert response.status_code == 302 and response.url == back


@pytest.mark.parametrize("unsafe", ["https://evil.example/steal", "//evil.example/x"])
def test_an_unsafe_next_is_ignored(admin_client, unsafe):
    response = admin_client.post(
        f"{ADD}?next={unsafe}",
        {"name": "New", "destination": Destination.PADDLE_SANDBOX, "api_key": make_api_key()},
    )
    assert response.status_code == 302 and response.url == CHANGELIST


def test_change_page_shows_the_hint_and_renames_without_touching_the_key(admin_client):
    key = make_api_key("sandbox")
    credential = IntegrationCredentialFactory(name="Old", api_key=key)

    html = page(admin_client.get(change_url(credential)))
    assert credential.api_key_hint in html and key not in html
    assert 'name="new_api_key"' in html and 'type="password"' in html
    assert "Test connection" in html
    assert 'name="destination"' not in html  # the destination cannot change

    response = admin_client.post(change_url(credential), {"name": "New name", "new_api_key": ""})
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.name == "New name" and credential.api_key() == key


def test_change_page_replaces_the_key_checking_its_environment(admin_client):
    credential = IntegrationCredentialFactory(name="Sbx")

    live = make_api_key("production")
    response = admin_client.post(change_url(credential), {"name": "Sbx", "new_api_key": live})
    assert response.status_code == 200
    assert "needs a sandbox key" in page(response)

    fresh = make_api_key("sandbox")
    admin_client.post(change_url(credential), {"name": "Sbx", "new_api_key": fresh})
    credential.refresh_from_db()
    assert credential.api_key() == fresh


def test_test_connection_button_reports_success(admin_client, paddle):
    credential = IntegrationCredentialFactory(name="Sbx", api_key=make_api_key("sandbox"))

    response = admin_client.post(connection_test_url(credential), follow=True)

    html = page(response)
    assert response.redirect_chain[-1][0] == change_url(credential)
    assert "Sbx: Connected to Paddle (Sandbox Mode)" in html
    assert "Paddle accepted the key" in html
    credential.refresh_from_db()
    assert credential.last_test_ok is True
    assert f"{credential.last_tested_at:%Y-%m-%d %H:%M} UTC" in html


def test_test_connection_button_shows_paddles_error_in_actionable_words(admin_client, paddle):
    key = make_api_key("sandbox")
    paddle.configure(revoked_keys=[key])
    credential = IntegrationCredentialFactory(api_key=key)

    html = page(admin_client.post(connection_test_url(credential), follow=True))

    assert "Invalid or revoked API key" in html
    assert "Create a new key in Paddle" in html
    assert key not in html


def test_test_connection_needs_a_post(admin_client):
    credential = IntegrationCredentialFactory()
    assert admin_client.get(connection_test_url(credential)).status_code == 405


def test_test_connection_admin_action(admin_client, paddle):
    good = IntegrationCredentialFactory(name="Good", api_key=make_api_key("sandbox"))
    bad_key = make_api_key("sandbox")
    paddle.configure(revoked_keys=[bad_key])
    bad = IntegrationCredentialFactory(name="Bad", api_key=bad_key)

    response = admin_client.post(
        CHANGELIST,
        {"action": "test_connection_action", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    html = page(response)
    assert "Good: Connected to Paddle (Sandbox Mode)" in html
    assert (
        "Bad: While testing the connection to Paddle (Sandbox Mode), Paddle answered 403 invalid_token"
        in html
    )
    assert paddle.request_count("GET", "/transactions") == 2


def test_a_credential_in_use_cannot_be_deleted_and_the_page_names_the_integrations(admin_client):
    credential = IntegrationCredentialFactory()
    IntegrationConfigurationFactory(name="EU invoices", credential=credential)
    delete_url = reverse("admin:credentials_integrationcredential_delete", args=[credential.pk])

    html = page(admin_client.get(delete_url))
    assert "EU invoices" in html
    assert "Cannot delete" in html or "protected" in html

    admin_client.post(delete_url, {"post": "yes"})
    assert IntegrationCredential.objects.filter(pk=credential.pk).exists()

    change = page(admin_client.get(change_url(credential)))
    assert reverse("integrations:detail", args=[credential.integrations.get().pk]) in change


def test_an_unused_credential_is_deleted(admin_client):
    credential = IntegrationCredentialFactory()
    delete_url = reverse("admin:credentials_integrationcredential_delete", args=[credential.pk])
    response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not IntegrationCredential.objects.exists()
