"""Backfill: a parent run with a child per selected bill, its failures, retry and replay."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.services import integration_disable
from m3terdata.models import LineItem
from m3terdata.tests.factories import AccountFactory, BillFactory
from runs.models import (
    Delivery,
    IntegrationRun,
    RunStatus,
    RunTrigger,
)
from runs.services import (
    RunRefused,
    run_replay,
    run_retry,
    runs_backfill,
)
from runs.tests.factories import (
    bill_with_lines,
)
from runs.tests.helpers import refreshed, transactions

pytestmark = pytest.mark.django_db


def test_a_backfill_sends_the_selected_bills_as_children_of_one_parent(
    paddle, integration, inline, send
):
    restricted = AccountFactory()
    integration.restricted_account_ids = [restricted.m3ter_id]
    integration.save()
    job = [bill_with_lines(bill_job_id="job-1") for _ in range(3)]
    bill_with_lines(bill_job_id="job-1", account=restricted)
    bill_with_lines(bill_job_id="job-2")
    send(job[0])  # already delivered, unchanged since

    with inline():
        parent = runs_backfill(integration=integration, bill_job_id="job-1")

    parent = refreshed(parent)
    children = list(parent.children.all())
    assert parent.status == RunStatus.COMPLETE and parent.dt_completed
    assert {child.entity_id for child in children} == {b.m3ter_id for b in job[1:]}
    assert {child.status for child in children} == {RunStatus.COMPLETE}
    assert {child.trigger for child in children} == {RunTrigger.BACKFILL}
    assert len(transactions(paddle)) == 3
    summary = parent.log_entries.first()
    assert "2 bills to send" in summary.message
    assert "1 skipped: The account is in Restricted Account Ids" in summary.message
    assert "1 skipped: The bill has not changed since it was last delivered" in summary.message
    assert parent.log_entries.last().message == "All 2 bills finished: 2 delivered, 0 failed."


def test_a_backfill_with_failures_ends_in_error_and_retry_finishes_it(paddle, integration, inline):
    good = bill_with_lines(bill_job_id="job")
    bad = bill_with_lines("5.00", "-1.00", bill_job_id="job")

    with inline():
        parent = runs_backfill(integration=integration, bill_job_id="job")

    parent = refreshed(parent)
    assert parent.status == RunStatus.ERROR
    assert parent.error == "1 of 2 bills failed (1 Error)."
    LineItem.objects.filter(bill=bad, subtotal__lt=0).update(subtotal=Decimal("1.00"))

    with inline():
        run_retry(run=parent)

    parent = refreshed(parent)
    assert parent.status == RunStatus.COMPLETE
    assert parent.error == ""
    assert {b.m3ter_id for b in (good, bad)} == {
        t["custom_data"]["m3ter_bill_id"] for t in transactions(paddle)
    }


def test_retrying_a_failed_child_reopens_its_parent(paddle, integration, inline):
    bad = bill_with_lines("5.00", "-1.00", bill_job_id="job")
    with inline():
        parent = runs_backfill(integration=integration, bill_job_id="job")
    (child,) = parent.children.all()
    assert refreshed(parent).status == RunStatus.ERROR
    LineItem.objects.filter(bill=bad, subtotal__lt=0).update(subtotal=Decimal("1.00"))

    with inline():
        run_retry(run=child)

    assert refreshed(child).status == RunStatus.COMPLETE
    assert refreshed(parent).status == RunStatus.COMPLETE


def test_replaying_a_backfill_selects_the_same_bills_again(paddle, integration, inline):
    bill = bill_with_lines(bill_date=datetime.date(2026, 3, 5))
    with inline():
        first = runs_backfill(
            integration=integration,
            date_from=datetime.date(2026, 3, 1),
            date_to=datetime.date(2026, 3, 31),
        )
        Delivery.objects.update(delivered_hash="")  # as if the bill had changed since
        replay = run_replay(run=first)

    replay = refreshed(replay)
    assert replay.replayed_from_id == first.pk
    assert replay.selection == first.selection
    assert [c.entity_id for c in replay.children.all()] == [bill.m3ter_id]
    assert replay.status == RunStatus.COMPLETE


def test_a_backfill_that_selects_nothing_is_complete_at_once(integration):
    bill_with_lines(bill_job_id="job", status="PENDING")
    integration.only_send_bill_on_approval = True
    integration.save()

    parent = runs_backfill(integration=integration, bill_job_id="job")

    assert parent.status == RunStatus.COMPLETE
    # Each reason a bill was skipped is a sentence of its own, ended once.
    assert parent.log_entries.get().message == (
        "Backfill of bill job job: 0 bills to send. 1 skipped: Only Send Bill On Approval is on "
        "and the bill is not approved yet."
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "Choose the bills to send"),
        (
            {"date_from": datetime.date(2026, 2, 1), "date_to": datetime.date(2026, 1, 1)},
            "The start date 2026-02-01 is after the end date 2026-01-01.",
        ),
        ({"bill_ids": ["nope"]}, "No bill with id: nope."),
    ],
)
def test_a_backfill_with_a_bad_selection_is_refused(integration, options, message):
    with pytest.raises(RunRefused, match=message):
        runs_backfill(integration=integration, **options)
    assert not IntegrationRun.objects.exists()


def test_a_backfill_needs_an_enabled_connected_integration(integration):
    integration_disable(integration=integration, reason="x")
    with pytest.raises(
        RunRefused, match="is disabled: x. Fix the cause and enable the integration"
    ):
        runs_backfill(integration=integration, bill_job_id="job")


def test_a_backfill_costs_the_same_queries_for_more_bills(integration):
    def queries_for(job, count):
        for _ in range(count):
            BillFactory(bill_job_id=job)
        with CaptureQueriesContext(connection) as captured:
            runs_backfill(integration=integration, bill_job_id=job)
        return len(captured)

    # 30 runs fit in one INSERT even with SQLite's 999 parameters.
    assert queries_for("few", 2) == queries_for("more", 30)


@pytest.mark.parametrize(
    "selection, words",
    [
        ({"bill_job_id": "no-such-job"}, "bill job no-such-job"),
        (
            {"date_from": datetime.date(2001, 1, 1), "date_to": datetime.date(2001, 1, 31)},
            "bill dates 2001-01-01 to 2001-01-31",
        ),
    ],
)
def test_a_backfill_that_selects_no_bill_says_so_and_creates_nothing(integration, selection, words):
    with pytest.raises(RunRefused, match=f"No bill matches {words}, so nothing was sent"):
        runs_backfill(integration=integration, **selection)

    assert not IntegrationRun.objects.exists()
