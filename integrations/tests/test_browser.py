"""The guide's flow in a real browser: create through the three stages, connect, update,
disconnect; and what a viewer may not do."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client
from playwright.sync_api import Page, expect

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.models import IntegrationConfiguration, IntegrationEventName
from integrations.tests.conftest import make_user
from integrations.tests.factories import IntegrationConfigurationFactory, IntegrationEventFactory
from m3terdata.tests.factories import AccountFactory
from runs.tests.factories import IntegrationRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, live_server, role: str):
    user = make_user(role)
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return user


def pick_account(page: Page, label: str, search: str):
    page.get_by_label(label, exact=True).fill(search)
    page.get_by_role("option", name=re.compile(search)).first.click()


def stage_marker(page: Page, number: int):
    return page.get_by_test_id(f"stage-{number}").locator(".wizard-stage-marker")


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_create_an_integration_through_the_three_stages(page: Page, live_server, artifacts_dir):
    sign_in(page, live_server, "editor")
    AccountFactory.create_batch(30)  # more than one page of search results
    AccountFactory(name="Zenith Widgets", code="ZEN")
    User.objects.create_user("ops", email="ops@example.com")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Integration").click()
    page.get_by_role("link", name="Configurations").click()
    expect(page.get_by_role("heading", name="Integrations Configurations")).to_be_visible()
    page.get_by_role("link", name="Create Integration").click()

    # Stage 1: Select entity type
    expect(page.get_by_text("Entity Type Settings")).to_be_visible()
    page.get_by_label("Bill").check()
    page.screenshot(path=artifacts_dir / "wizard-stage-1.png", full_page=True)
    page.get_by_role("button", name="Next").click()

    # Stage 2: Select destination; stage 1 is checked.
    expect(page.get_by_text("Destination Settings")).to_be_visible()
    expect(stage_marker(page, 1)).to_have_text("✓")
    page.get_by_label("Paddle (Sandbox Mode)").check()
    page.screenshot(path=artifacts_dir / "wizard-stage-2.png", full_page=True)
    page.get_by_role("button", name="Next").click()

    # Stage 3: Configure and create, showing what was chosen.
    expect(stage_marker(page, 2)).to_have_text("✓")
    expect(page.get_by_test_id("chosen-entity-type")).to_have_text("Bill")
    expect(page.get_by_test_id("chosen-destination")).to_have_text("Paddle (Sandbox Mode)")
    expect(page.get_by_role("checkbox", name="Only Send Bill On Approval")).not_to_be_checked()
    expect(page.get_by_label("Sort Line Items By")).to_have_value("NONE")

    # m3ter's current guide: the constraints where a person configures, Name required, and
    # who is e-mailed when the integration disables itself.
    expect(page.get_by_test_id("constraints")).to_contain_text(
        "Values with more than 2 decimal places are rounded"
    )
    expect(page.locator("label[for=id_configure-name] .asteriskField")).to_be_visible()
    page.get_by_role("checkbox", name="ops", exact=True).check()
    page.locator("#id_configure-name").fill("Sandbox bills")
    # The search shows a page of accounts; scrolling to the end fetches the next page.
    page.get_by_label("Account Ids", exact=True).click()
    options = page.locator("#id_configure-account_ids_results [role=option]")
    expect(options).to_have_count(20)
    options.last.scroll_into_view_if_needed()
    expect(options).to_have_count(31)
    pick_account(page, "Account Ids", "Zenith")
    expect(page.locator(".account-picker-chip", has_text="Zenith Widgets (ZEN)")).to_have_count(1)
    page.get_by_role("checkbox", name="Use External Mapping Account Code").check()
    page.get_by_role("checkbox", name="Minimum spend", exact=True).check()

    # The filter is checked as it is typed, and the error points at the column.
    account_filter = page.get_by_label("Account Filter")
    account_filter.fill("customFields.country = = UK")
    status = page.locator("[data-filter-status]")
    expect(status).to_contain_text("column 22: write '==' to compare (found '= =')")
    expect(status.locator(".filter-pointer")).to_contain_text(" " * 21 + "^")
    account_filter.fill("currency == USD")
    expect(status).to_have_text("Valid filter: matches 31 of 31 accounts.")
    page.get_by_role("button", name="Test filter").click()
    expect(page.get_by_test_id("filter-test-result")).to_contain_text("31 of 31 accounts match.")
    # What the invoice charges: net amounts by default, with help saying what each option costs.
    expect(page.get_by_label("Tax Mode")).to_have_value("EXTERNAL")
    expect(page.get_by_text("the customer pays the bill's total plus tax")).to_be_visible()
    expect(page.get_by_label("Company Name Field")).to_have_value("companyName")
    page.get_by_label("Tax Category").select_option("saas")
    page.get_by_role("radio", name="Send them as one credit (a discount) on the invoice").check()
    page.screenshot(path=artifacts_dir / "wizard-stage-3.png", full_page=True)

    # Back keeps the answers, both of the stage left and of the stage returned to.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Paddle (Sandbox Mode)")).to_be_checked()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#id_configure-name")).to_have_value("Sandbox bills")
    expect(page.get_by_label("Account Filter")).to_have_value("currency == USD")
    expect(page.locator(".account-picker-chip", has_text="Zenith Widgets")).to_have_count(1)
    expect(page.get_by_role("checkbox", name="Use External Mapping Account Code")).to_be_checked()

    # An account in both lists is refused, by name.
    pick_account(page, "Restricted Account Ids", "ZEN")
    page.get_by_role("button", name="Create Integration").click()
    expect(page.locator(".invalid-feedback")).to_contain_text(
        "An account cannot be both included and excluded: Zenith Widgets"
    )
    assert not IntegrationConfiguration.objects.exists()
    page.get_by_role("button", name="Remove Zenith Widgets (ZEN)").last.click()
    page.get_by_role("button", name="Create Integration").click()

    expect(page.get_by_role("heading", name="Integration Details")).to_be_visible()
    expect(page.get_by_test_id("not-connected-warning")).to_be_visible()
    integration = IntegrationConfiguration.objects.get()
    assert integration.account_ids == [integration.account_ids[0]]
    assert integration.restricted_account_ids == []
    assert integration.excluded_line_item_types == ["MINIMUM_SPEND"]
    assert integration.use_external_mapping_account_code is True
    assert (integration.tax_mode, integration.tax_category) == ("EXTERNAL", "saas")
    assert integration.negative_line_items == "CREDIT"
    expect(page.get_by_text("Software as a service (SaaS)")).to_be_visible()
    assert [user.username for user in integration.users_to_notify.all()] == ["ops"]
    expect(page.get_by_test_id("config-id")).to_have_text(str(integration.pk))


def test_connect_update_and_disconnect(page: Page, live_server, artifacts_dir):
    sign_in(page, live_server, "editor")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    IntegrationCredentialFactory(name="Sandbox key A")
    IntegrationCredentialFactory(name="Sandbox key B")
    IntegrationCredentialFactory(name="Production key", destination=Destination.PADDLE)
    included = AccountFactory(name="Acme Corporation", code="ACME")
    integration = IntegrationConfigurationFactory(
        name="Sandbox bills",
        account_ids=[included.m3ter_id],
        only_send_bill_on_approval=True,
        excluded_line_item_types=["MINIMUM_SPEND", "MINIMUM_SPEND_REFUND"],
        sort_line_items_by="SUBTOTAL",
        account_filter="customFields != null AND customFields.country == UK",
    )
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/integrations/")
    page.get_by_role("link", name="Bill", exact=True).click()
    expect(page.get_by_test_id("not-connected-warning")).to_be_visible()

    page.get_by_role("button", name="Copy ID").click()
    expect(page.locator("[data-copy-target]")).to_have_text("Copied")
    # The clipboard write finishes asynchronously; read until it lands (or give up after 5 s).
    page.bring_to_front()
    for _ in range(50):
        copied = page.evaluate("navigator.clipboard.readText()")
        if copied == str(integration.pk):
            break
        page.wait_for_timeout(100)
    assert copied == str(integration.pk)

    page.get_by_role("button", name="Add Credential").click()
    modal = page.get_by_role("dialog", name="Select One Integration Credential")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("radio")).to_have_count(2)  # only the Sandbox Mode credentials
    expect(modal).not_to_contain_text("Production key")
    modal.get_by_label(re.compile("Sandbox key A")).check()
    modal.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("CONNECTED")
    expect(page.get_by_test_id("credential-name")).to_have_text("Sandbox key A")
    page.screenshot(path=artifacts_dir / "integration-details.png", full_page=True)

    page.get_by_role("button", name="Update Credential").click()
    modal.get_by_label(re.compile("Sandbox key B")).check()
    modal.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("credential-name")).to_have_text("Sandbox key B")

    page.get_by_role("button", name="Disconnect").click()
    confirm = page.get_by_role("dialog", name="Disconnect the integration?")
    confirm.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("NOT CONNECTED")
    expect(page.get_by_role("button", name="Add Credential")).to_be_visible()
    integration.refresh_from_db()
    assert integration.credential is None


def test_a_viewer_cannot_change_anything(page: Page, live_server):
    sign_in(page, live_server, "viewer")
    IntegrationCredentialFactory()
    integration = IntegrationConfigurationFactory(name="Read only")
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/integrations/")
    expect(page.get_by_role("link", name="Create Integration")).to_have_count(0)
    assert fits_the_width(page)
    page.get_by_role("link", name="Bill", exact=True).click()
    expect(page.get_by_role("heading", name="Integration Details")).to_be_visible()
    assert fits_the_width(page)
    for name in ("Add Credential", "Edit", "Disable", "Delete"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)

    # Even a hand-made POST with a valid CSRF token is refused.
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
            const body = new URLSearchParams({csrfmiddlewaretoken: token});
            return (await fetch(url, {method: "POST", body})).status;
        }""",
        f"/integrations/{integration.pk}/disable/",
    )
    assert status == 403
    response = page.goto(f"{live_server.url}/integrations/create/")
    assert response.status == 403
    integration.refresh_from_db()
    assert integration.enabled


def test_integration_events_page_follow_ups_and_mark_actioned(
    page: Page, live_server, artifacts_dir
):
    user = sign_in(page, live_server, "editor")
    # Following every event up takes the run pages and the admin's external mapping form too.
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_integrationevent",
                "change_integrationevent",
                "view_integrationrun",
                "add_externalmapping",
                "view_externalmapping",
            ]
        )
    )
    integration = IntegrationConfigurationFactory(name="Refused keys")
    account = AccountFactory(name="Unmapped Ltd")
    run = IntegrationRunFactory(integration=integration, failed=True)
    IntegrationEventFactory(
        name=IntegrationEventName.AUTHENTICATION,
        integration=integration,
        message="Paddle refused the API key (authentication_failed).",
    )
    IntegrationEventFactory(name=IntegrationEventName.PERFORM, message="Gave up after 5 attempts.")
    IntegrationEventFactory(
        name=IntegrationEventName.VALIDATION,
        integration=integration,
        run=run,
        message="Paddle refused the transaction.",
    )
    IntegrationEventFactory(
        name=IntegrationEventName.MISSING_ACCOUNT_MAPPING,
        integration=integration,
        account_m3ter_id=account.m3ter_id,
        message="The account has no external mapping to a Paddle customer.",
    )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("nav-open-events")).to_have_text("4")
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("button", name="Integration").click()
    page.get_by_role("link", name="Integration events").click()
    expect(page.get_by_role("heading", name="Integration events")).to_be_visible()
    expect(page.get_by_test_id("event-state")).to_have_count(4)
    expect(page.get_by_test_id("event-state").first).to_have_text("NOT ACTIONED")
    assert fits_the_width(page)
    page.screenshot(path=artifacts_dir / "integration-events.png", full_page=True)

    perform = page.locator("li[data-event='integration.perform.error']")
    perform.get_by_role("button", name="Mark actioned").click()
    expect(page.get_by_text("Marked actioned: Perform error.")).to_be_visible()
    expect(page.get_by_test_id("nav-open-events")).to_have_text("3")

    # Each follow-up lands where the event is fixed.
    validation = page.locator("li[data-event='integration.validation.error']")
    validation.get_by_role("link", name="Go to the run").click()
    expect(page).to_have_url(f"{live_server.url}/runs/{run.pk}/")
    expect(page.get_by_test_id("run-status")).to_have_text("Error")
    page.go_back()

    unmapped = page.locator("li[data-event='integration.missingaccountmapping.error']")
    unmapped.get_by_role("link", name="Create external mapping").click()
    expect(page.get_by_role("heading", name="Add external mapping")).to_be_visible()
    expect(page.locator("#id_m3ter_entity")).to_have_value("Account")
    expect(page.locator("#id_m3ter_id")).to_have_value(account.m3ter_id)
    expect(page.locator("#id_external_system")).to_have_value("Paddle")
    expect(page.locator("#id_external_table")).to_have_value("Customer")
    expect(page.locator("#id_integration")).to_have_value(str(integration.pk))
    expect(page.locator("#id_external_id")).to_have_value("")  # the Paddle customer to enter
    page.go_back()

    refused = page.locator("li[data-event='integration.authentication.error']")
    refused.get_by_role("link", name="Go to authentication").click()
    expect(page).to_have_url(re.compile(rf"/integrations/{integration.pk}/#authentication$"))
    expect(page.get_by_role("heading", name="Authentication")).to_be_visible()


def test_a_long_name_without_spaces_leaves_the_other_columns_on_the_screen(
    page: Page, live_server
):
    sign_in(page, live_server, "editor")
    IntegrationConfigurationFactory(name="Paddle" * 33)  # 198 characters, no space
    IntegrationConfigurationFactory(name="Paddle Sandbox")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/integrations/")

    for column in ("Entity Type", "Destination", "State", "Last run"):
        box = page.get_by_role("columnheader", name=column).bounding_box()
        assert box["x"] + box["width"] <= 1280, f"{column} is off the screen"
    expect(page.get_by_role("link", name="Paddle Sandbox")).to_be_visible()
