"""Preview in Paddle from a bill's page, in a real browser."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from m3terdata.tests.factories import AccountFactory
from paddle_destination.tests import fixtures
from runs.tests.factories import bill_with_lines, connected_integration
from runs.tests.test_views import user_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

paddle, api_key = fixtures.paddle, fixtures.api_key


def sign_in(page: Page, live_server):
    client = Client()
    client.force_login(user_with(["m3terdata.view_bill"], "viewer"))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_preview_in_paddle_shows_paddles_items_and_totals(
    page: Page, live_server, artifacts_dir, paddle, api_key
):
    sign_in(page, live_server)
    connected_integration(api_key=api_key, name="Paddle Sandbox")
    bill = bill_with_lines("1200.00", "345.67", account=AccountFactory(name="Hooli"))

    page.goto(f"{live_server.url}/data/bills/{bill.m3ter_id}/")
    page.get_by_role("button", name="Preview in Paddle").click()

    expect(page.get_by_role("heading", name="Preview in Paddle")).to_be_visible()
    expect(page.get_by_test_id("preview-items").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("preview-totals")).to_contain_text("1,545.67 USD")
    expect(page.get_by_text("Nothing was created in Paddle")).to_be_visible()
    page.screenshot(path=artifacts_dir / "bill-preview.png", full_page=True)
    assert paddle.dump()["transactions"] == []
