"""Adding a credential from an integration's modal, in a real browser: the integration's
destination is already chosen and saving comes back to it CONNECTED."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import Page, expect

from credentials.models import Destination
from integrations.tests.conftest import make_user
from integrations.tests.factories import IntegrationConfigurationFactory
from standins.paddle import make_api_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_credentials(page: Page, live_server):
    user = make_user("editor")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="credentials", codename="add_integrationcredential"
        )
    )
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_a_new_credential_from_the_modal_connects_the_integration(
    page: Page, live_server, artifacts_dir
):
    sign_in_with_credentials(page, live_server)
    integration = IntegrationConfigurationFactory(
        name="Sandbox bills", destination=Destination.PADDLE_SANDBOX
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/integrations/{integration.pk}/")
    expect(page.get_by_test_id("connection-status")).to_have_text("NOT CONNECTED")

    page.get_by_role("button", name="Add Credential").click()
    modal = page.get_by_role("dialog", name="Select One Integration Credential")
    expect(modal).to_contain_text("There is no Paddle (Sandbox Mode) credential yet.")
    modal.get_by_role("link", name="Create a new credential").click()

    expect(page.get_by_role("heading", name="Add Credential")).to_be_visible()
    destination = page.get_by_label("Destination")
    expect(destination).to_be_disabled()
    expect(destination).to_have_value("PADDLE_SANDBOX")
    page.get_by_label("Name").fill("Sandbox billing key")
    page.get_by_label("API key").fill("abc123")
    page.get_by_role("button", name="Save and connect").click()
    expect(page.get_by_text("This is not a Paddle API key.")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_value("")  # a key is never sent back
    page.screenshot(path=artifacts_dir / "credential-add.png", full_page=True)

    page.get_by_label("API key").fill(make_api_key("sandbox"))
    page.get_by_role("button", name="Save and connect").click()

    expect(page).to_have_url(f"{live_server.url}/integrations/{integration.pk}/")
    expect(page.get_by_test_id("connection-status")).to_have_text("CONNECTED")
    expect(page.get_by_test_id("credential-name")).to_have_text("Sandbox billing key")
    expect(page.get_by_role("alert").first).to_contain_text(
        "Connected to Paddle (Sandbox Mode) with the new credential “Sandbox billing key”."
    )
