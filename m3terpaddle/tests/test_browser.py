"""The pages, the admin, htmx and the Swagger UI under the Content-Security-Policy, in Chromium.
(Every browser test also fails on a violation: see the root conftest.)"""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect

from conftest import csp_violations
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import BillFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page: Page, live_server):
    admin = User.objects.create_superuser("csp-admin", password="x")
    client = Client()
    client.force_login(admin)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_the_pages_send_the_policy_and_work_under_it(signed_in: Page, live_server):
    integration = IntegrationConfigurationFactory(name="Under CSP")
    bill = BillFactory()
    paths = [
        "/integrations/",
        f"/integrations/{integration.pk}/",
        "/integrations/create/",
        "/runs/",
        "/data/bills/",
        f"/data/bills/{bill.m3ter_id}/",
        "/m3ter/pulls/",
        "/admin/",
        "/admin/m3tersync/m3terconnection/add/",
        "/admin/api/serviceuser/add/",
        "/api/docs/",
    ]
    for path in paths:
        response = signed_in.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        signed_in.wait_for_load_state("networkidle")

    expect(signed_in.get_by_text("m3terpaddle API", exact=False).first).to_be_visible()


def test_a_violation_would_be_seen(browser, live_server):
    """The check the other browser tests rely on does catch an inline script (on a page of its
    own, since this violation is deliberate)."""
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    seen = csp_violations(page)

    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)

    assert seen and "script-src" in seen[0]
    page.close()
