"""The interactive docs in a real browser: Swagger UI from installed files, signing in with a
service user's key and secret (OAuth 2.0 client credentials) and calling the API."""

import re

import pytest
from playwright.sync_api import Page, expect

from api.tests.conftest import ORG_ID
from integrations.tests.factories import IntegrationConfigurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_on_the_docs_page_and_list_integrations(
    page: Page, live_server, make_service_user, artifacts_dir
):
    IntegrationConfigurationFactory(name="Shown through Swagger UI")
    api_key, secret = make_service_user(name="docs-reader")
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("m3terpaddle API", exact=False).first).to_be_visible()

    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input#client_id_clientCredentials").fill(api_key.key_id)
    dialog.locator("input#client_secret_clientCredentials").fill(secret)
    dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
    expect(dialog.locator("button", has_text="Logout").first).to_be_visible()
    dialog.locator("button.btn-done").first.click()

    operation = page.locator("#operations-Integrations-GetIntegrationConfigs")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    # Filled in from the schema: the organization the hub serves.
    expect(operation.locator("input[placeholder='orgId']")).to_have_value(ORG_ID)
    operation.get_by_role("button", name="Execute").click()

    expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text(
        "200"
    )
    expect(operation.locator(".live-responses-table")).to_contain_text("Shown through Swagger UI")
    operation.screenshot(path=artifacts_dir / "api-docs.png")
    assert outside == []
