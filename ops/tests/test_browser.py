"""The status page in a real browser: Paddle down, what waits, whether the hub is ready."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ops.tests.factories import ready_beats
from paddle_destination.models import CircuitState, PaddleCircuit
from runs.models import RunStatus
from runs.tests.factories import IntegrationRunFactory
from runs.tests.test_browser import PHONE, fits_the_width, sign_in
from runs.tests.test_views import VIEW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_status_page_says_paddle_is_down_and_what_waits(page: Page, live_server, artifacts_dir):
    sign_in(page, live_server, VIEW)
    ready_beats(worker_age=3, sweep_age=20)
    since = timezone.now() - datetime.timedelta(minutes=12)
    PaddleCircuit.objects.create(
        host="https://api.paddle.com",
        state=CircuitState.OPEN,
        consecutive_failures=14,
        opened_at=since,
        next_probe_at=timezone.now() + datetime.timedelta(seconds=8),
        last_failure="HTTP 503",
    )
    IntegrationRunFactory.create_batch(3, status=RunStatus.AWAITING_RETRY, queued_at=since)

    page.goto(f"{live_server.url}/runs/")
    page.get_by_role("button", name="Integration").click()
    page.get_by_role("link", name="Status").click()

    paddle = page.get_by_role("list", name="Paddle hosts")
    expect(paddle).to_contain_text("https://api.paddle.com")
    expect(paddle).to_contain_text("Unavailable")
    expect(paddle).to_contain_text(f"Unavailable since {since:%Y-%m-%d %H:%M:%S} UTC (HTTP 503)")
    expect(page.get_by_role("list", name="Readiness checks")).to_contain_text("worker")
    expect(page.get_by_text("Ready", exact=True)).to_be_visible()
    waiting = page.get_by_role("link", name="3 Awaiting retry")
    expect(waiting).to_be_visible()
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    page.screenshot(path=artifacts_dir / "status-page.png", full_page=True)

    waiting.click()
    expect(page.get_by_text("3 runs match")).to_be_visible()
