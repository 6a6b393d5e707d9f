"""Run history and run details in a real browser, including a backfill's live progress bar."""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import AccountFactory
from paddle_destination.tests import fixtures
from runs.models import AttemptOutcome, IntegrationRun, LogLevel, RunStatus, RunTrigger
from runs.tests.factories import (
    IntegrationRunFactory,
    RunAttemptFactory,
    RunLogEntryFactory,
    bill_with_lines,
    connected_integration,
)
from runs.tests.test_views import ACT, user_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# The Paddle stand-in with settings pointed at it, and the sandbox key it accepts.
paddle, api_key = fixtures.paddle, fixtures.api_key


def sign_in(page: Page, live_server, permissions):
    client = Client()
    client.force_login(user_with(permissions, "operator"))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def no_column_cut_off(page: Page) -> bool:
    """The page fits and no table in it needs scrolling sideways."""
    return fits_the_width(page) and page.evaluate(
        "[...document.querySelectorAll('.table-responsive')]"
        ".every(box => box.scrollWidth <= box.clientWidth)"
    )


# Words of a table's cells that wrap inside themselves, letter by letter: a column squeezed
# narrower than its words. Only words count (letters, perhaps hyphenated, with punctuation around
# them): ids and Paddle's error codes (digits, underscores) may break where a column ends.
WORDS_BROKEN = """() => {
    const broken = [];
    for (const cell of document.querySelectorAll("td, th")) {
        if (!cell.offsetParent) continue;  // hidden at this width
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/\\S+/g)) {
                if (!/^[(\\p{Quotation_Mark}]*[\\p{L}'’-]+[\\p{P}]*$/u.test(match[0])) continue;
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(match[0]);
            }
        }
    }
    return broken;
}"""


def words_broken(page: Page) -> list[str]:
    return page.evaluate(WORDS_BROKEN)


def test_history_and_details_of_a_failed_run_then_retry_it(
    page: Page, live_server, artifacts_dir, paddle, api_key
):
    sign_in(page, live_server, ACT)
    integration = connected_integration(api_key=api_key, name="Paddle Sandbox")
    now = timezone.now()
    for n, account in enumerate(["Umbrella", "Initech", "Globex", "Acme Corp"], start=1):
        created = now - datetime.timedelta(minutes=7 * n)
        run = IntegrationRunFactory(
            integration=integration,
            bill__account=AccountFactory(name=account),
            complete=True,
            dt_started=created,
            dt_completed=created + datetime.timedelta(milliseconds=850 + 90 * n),
        )
        IntegrationRun.objects.filter(pk=run.pk).update(created_at=created)
    failed = IntegrationRunFactory(
        integration=integration,
        bill=bill_with_lines("12.50", "30.00", account=AccountFactory(name="Hooli")),
        failed=True,
    )
    IntegrationRun.objects.filter(pk=failed.pk).update(
        created_at=failed.dt_started - datetime.timedelta(milliseconds=40), attempt_count=8
    )
    RunAttemptFactory(
        run=failed,
        number=8,
        outcome=AttemptOutcome.TRANSIENT,
        duration_ms=311,
        request_summary={
            "method": "POST",
            "path": "/transactions",
            "items": 4,
            "currency_code": "USD",
        },
        response_summary={"status": 502, "code": "bad_gateway"},
    )
    RunLogEntryFactory(
        run=failed, message="Run created for bill version 1.", created_at=failed.dt_started
    )
    RunLogEntryFactory(
        run=failed,
        created_at=failed.dt_completed,
        level=LogLevel.ERROR,
        message="Gave up after 8 attempts: While creating the transaction, Paddle answered "
        "502 Bad Gateway.",
        data={"status": 502},
    )

    page.goto(f"{live_server.url}/data/bills/")
    page.get_by_role("button", name="Integration").click()
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    expect(page.get_by_test_id("run-table").locator("tbody tr")).to_have_count(5)
    page.get_by_label("Status").select_option("ERROR")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("run-table").locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_test_id("run-table").locator("tbody tr")).to_have_count(5)
    page.screenshot(path=artifacts_dir / "run-history.png", full_page=True)

    page.get_by_role("row").filter(has_text="Hooli").get_by_role("link").first.click()
    expect(page.get_by_test_id("run-status")).to_have_text("Error")
    expect(page.get_by_test_id("run-error")).to_contain_text("What to do")
    page.get_by_text("Summary").click()
    expect(page.get_by_test_id("attempts")).to_contain_text("bad_gateway")
    page.screenshot(path=artifacts_dir / "run-details.png", full_page=True)

    page.set_viewport_size(PHONE)
    assert fits_the_width(page)

    # With Q_CLUSTER_SYNC the retried run is delivered to the stand-in before the page returns.
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("alert").first).to_contain_text("Retry queued")
    expect(page.get_by_test_id("run-status")).to_have_text("Complete")
    transaction_id = IntegrationRun.objects.get(pk=failed.pk).external_id
    assert transaction_id.startswith("txn_")
    link = page.get_by_test_id("external-id").get_by_role("link", name=transaction_id)
    expect(link).to_have_attribute("href", re.compile(f"{transaction_id}$"))


def test_a_backfill_progress_bar_follows_its_children(page: Page, live_server, artifacts_dir):
    sign_in(page, live_server, ACT)
    integration = IntegrationConfigurationFactory(name="Paddle Sandbox")
    parent = IntegrationRunFactory(
        integration=integration, bill=None, trigger=RunTrigger.BACKFILL, status=RunStatus.STARTED
    )
    children = IntegrationRunFactory.create_batch(
        3,
        integration=integration,
        parent=parent,
        trigger=RunTrigger.BACKFILL,
        status=RunStatus.STARTED,
    )

    page.goto(f"{live_server.url}/runs/{parent.pk}/")
    progress = page.get_by_test_id("progress")
    expect(progress).to_contain_text("0 of 3 bill runs finished (0%)")

    IntegrationRun.objects.filter(pk=children[0].pk).update(status=RunStatus.COMPLETE)
    expect(progress).to_contain_text("1 of 3 bill runs finished (33%)", timeout=6000)
    IntegrationRun.objects.filter(pk=children[1].pk).update(status=RunStatus.ERROR)
    expect(progress).to_contain_text("2 of 3 bill runs finished (66%)", timeout=6000)
    page.screenshot(path=artifacts_dir / "run-progress.png", full_page=True)

    IntegrationRun.objects.filter(pk=children[2].pk).update(status=RunStatus.COMPLETE)
    expect(page.get_by_test_id("progress")).to_contain_text("All done.", timeout=6000)
    expect(page.get_by_test_id("progress")).to_have_attribute("data-complete", "true")


def test_a_bill_page_sends_the_bill_again(page: Page, live_server, artifacts_dir, paddle, api_key):
    sign_in(page, live_server, ACT)
    connected_integration(api_key=api_key, name="Paddle Sandbox")
    IntegrationConfigurationFactory(name="Not connected yet")
    bill = bill_with_lines("12.50", "30.00", bill_job_id="job-42")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/data/bills/")
    page.get_by_role("link", name=bill.m3ter_id[:8]).click()
    decisions = page.get_by_test_id("bill-integrations")
    expect(decisions).to_contain_text("Not delivered yet")
    expect(decisions).to_contain_text("has no credential attached")
    expect(page.get_by_test_id("line-items").locator("tbody tr")).to_have_count(2)
    assert fits_the_width(page)
    page.screenshot(path=artifacts_dir / "bill-details-phone.png", full_page=True)

    # With Q_CLUSTER_SYNC the run is delivered to the stand-in before its page opens.
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Sending the bill again to Paddle Sandbox."
    )
    expect(page.get_by_test_id("run-status")).to_have_text("Complete")
    assert fits_the_width(page)
    assert len(paddle.dump()["transactions"]) == 1


def test_a_delivery_with_a_different_total_is_never_shown_as_plainly_delivered(
    page: Page, live_server, artifacts_dir, paddle, api_key
):
    sign_in(page, live_server, ACT)
    integration = connected_integration(api_key=api_key, name="Paddle Sandbox")
    integration.excluded_line_item_types = ["MINIMUM_SPEND"]
    integration.save()
    bill = bill_with_lines("90.00", "10.00")
    bill.line_items.filter(sequence=2).update(line_item_type="MINIMUM_SPEND")

    page.goto(f"{live_server.url}/data/bills/{bill.m3ter_id}/")
    page.get_by_role("button", name="Send again").click()

    expect(page.get_by_test_id("run-status")).to_have_text("Complete")
    note = page.get_by_test_id("run-total-note")
    expect(note).to_contain_text("Delivered with a different total")
    expect(note).to_contain_text("USD 10.00 less, because Excluded Line Item Types left out")
    page.screenshot(path=artifacts_dir / "run-different-total.png", full_page=True)
    page.get_by_role("link", name=bill.m3ter_id).click()
    expect(page.get_by_test_id("bill-integrations")).to_contain_text("Different total")
    expect(page.get_by_test_id("bill-total-note")).to_contain_text("bill's is USD 100.00")


def test_lists_at_phone_width_and_a_disabled_integration_shown_disabled_everywhere(
    page: Page, live_server, artifacts_dir
):
    sign_in(page, live_server, [*ACT, "integrations.view_integrationconfiguration"])
    integration = connected_integration(name="Refused key")
    for n in range(3):
        bill = bill_with_lines(account__name=f"Very Long Account Name Incorporated {n}")
        IntegrationRunFactory(
            integration=integration,
            bill=bill,
            status=RunStatus.AUTH_FAILED,
            error="Paddle refused the API key (authentication_failed): it is revoked or wrong.",
        )
    integration.enabled = False
    integration.disabled_reason = "Paddle refused its credential 3 times in a row."
    integration.consecutive_auth_failures = 3
    integration.save()
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/runs/")
    expect(page.get_by_test_id("run-table")).to_be_visible()
    page.screenshot(path=artifacts_dir / "runs-phone.png", full_page=True)
    assert no_column_cut_off(page)
    assert words_broken(page) == []

    page.goto(f"{live_server.url}/data/bills/")
    expect(page.get_by_test_id("bill-delivery").first).to_have_text("Authentication failed")
    page.screenshot(path=artifacts_dir / "bills-phone.png", full_page=True)
    assert no_column_cut_off(page)
    assert words_broken(page) == []

    page.goto(f"{live_server.url}/integrations/")
    expect(page.get_by_test_id("connection-status")).to_have_text("DISABLED")
    expect(page.get_by_text("CONNECTED", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Refused key").click()
    expect(page.get_by_test_id("connection-status")).to_have_text("DISABLED")
    expect(page.get_by_test_id("disabled-warning")).to_contain_text("Update Credential")

    page.goto(f"{live_server.url}/data/bills/{bill.m3ter_id}/")
    row = page.get_by_test_id("bill-integration")
    expect(row.locator(".badge")).to_have_text("Integration disabled")
    expect(row.get_by_role("link", name="Fix the integration")).to_be_visible()
    assert fits_the_width(page)
