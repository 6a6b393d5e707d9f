"""Executing a run: a delivery that works, the claims that keep it to one worker and one
delivery at a time, and what a delivery costs."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from m3terdata.models import LineItem
from m3terdata.tests.factories import AccountFactory
from runs import services
from runs.models import (
    AttemptOutcome,
    Delivery,
    RunStatus,
)
from runs.services import (
    execute,
    run_execute,
)
from runs.tests.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    bill_with_lines,
    connected_integration,
)
from runs.tests.helpers import refreshed, transactions

pytestmark = pytest.mark.django_db


def test_a_bill_event_delivers_one_draft_and_records_it(paddle, integration, send, api_key):
    bill = bill_with_lines("12.50", "7.25", version=3)

    (run,) = send(bill)

    (txn,) = transactions(paddle)
    assert run.status == RunStatus.COMPLETE
    assert run.external_id == txn["id"]
    assert run.url.endswith(f"/transactions-v2/{txn['id']}")
    assert run.dt_started <= run.dt_completed
    assert (run.error, run.error_hint, run.lease_expires_at) == ("", "", None)
    delivery = Delivery.objects.get(integration=integration, bill_m3ter_id=bill.m3ter_id)
    assert delivery.external_id == txn["id"]
    assert (delivery.delivered_hash, delivery.delivered_version) == (bill.content_hash, 3)
    assert delivery.delivered_at is not None and delivery.claimed_by is None
    (attempt,) = run.attempts.all()
    assert (attempt.number, attempt.outcome) == (1, AttemptOutcome.SUCCESS)
    assert "POST /transactions" in attempt.request_summary["requests"]
    assert attempt.response_summary["transaction_id"] == txn["id"]
    assert {r["status"] for r in attempt.response_summary["responses"]} <= {200, 201}
    messages = [entry.message for entry in run.log_entries.all()]
    assert messages[0].startswith("Run created (Bill generated, recalculated or approved)")
    assert messages[-1] == f"Delivered: created Paddle transaction {txn['id']} (ready)."
    recorded = json.dumps(
        [list(run.log_entries.values("message", "data")), attempt.request_summary,
         attempt.response_summary],
        default=str,
    )  # fmt: skip
    assert api_key not in recorded


def test_log_entries_keep_the_moment_they_happened(paddle, integration, send):
    # An attempt's entries are saved together at its end; each must still carry its own time.
    paddle.configure(latency=0.2)

    (run,) = send(bill_with_lines("12.50"))

    times = [entry.created_at for entry in run.log_entries.all()]
    assert times == sorted(times)
    assert (times[-1] - times[1]).total_seconds() >= 0.2


def test_a_changed_bill_updates_the_same_transaction(paddle, integration, send):
    bill = bill_with_lines("12.50")
    (first,) = send(bill)
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal("99.00"))
    bill.content_hash, bill.version = "changed", 2
    bill.save()

    (second,) = send(bill)

    (txn,) = transactions(paddle)
    assert second.status == RunStatus.COMPLETE
    assert second.external_id == first.external_id == txn["id"]
    assert txn["details"]["totals"]["subtotal"] == "9900"
    assert paddle.request_count("POST", "/transactions") == 1
    assert paddle.request_count("PATCH") == 1
    assert Delivery.objects.get().delivered_version == 2


def test_an_unchanged_bill_is_not_sent_again(paddle, integration, send, inline):
    bill = bill_with_lines()
    (first,) = send(bill)
    assert send(bill) == []  # the bill event selects no integration

    # A run queued before the first delivery finished finds nothing to do when it executes.
    queued = IntegrationRunFactory(integration=integration, bill=bill)
    requests_before = paddle.stats()["total"]
    run_execute(run_id=queued.pk)

    queued = refreshed(queued)
    assert queued.status == RunStatus.COMPLETE
    assert queued.external_id == first.external_id
    assert queued.attempts.get().outcome == AttemptOutcome.SKIPPED
    assert "has not changed since it was delivered" in queued.log_entries.last().message
    assert paddle.stats()["total"] == requests_before


def test_an_unexpected_exception_ends_in_error_never_started(
    paddle, integration, send, monkeypatch
):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(execute, "invoice_deliver", explode)

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.ERROR
    assert "RuntimeError: boom" in run.error and "Retry the run" in run.error_hint
    assert run.attempts.get().outcome == AttemptOutcome.ERROR
    assert Delivery.objects.get().claimed_by is None


def test_runs_of_an_integration_without_credential_or_bill_end_in_error(paddle, integration):
    integration.credential = None
    integration.save()
    no_credential = IntegrationRunFactory(integration=integration)
    no_bill = IntegrationRunFactory(integration=connected_integration(), bill=None)

    for run in (no_credential, no_bill):
        run_execute(run_id=run.pk)

    assert "no credential attached" in refreshed(no_credential).error
    assert "Add Credential" in refreshed(no_credential).error_hint
    assert "no longer in the hub" in refreshed(no_bill).error
    assert paddle.stats()["total"] == 0


def test_a_run_is_taken_by_one_worker_only(paddle, integration):
    run = IntegrationRunFactory(integration=integration, bill=bill_with_lines())
    run_execute(run_id=run.pk)
    requests = paddle.stats()["total"]

    assert run_execute(run_id=run.pk) is None  # a duplicate task finds it done
    assert paddle.stats()["total"] == requests
    assert refreshed(run).attempts.count() == 1


def claimed_delivery(integration, bill, *, for_seconds):
    """The bill's Delivery, held by another run for a while."""
    return DeliveryFactory(
        integration=integration,
        bill_m3ter_id=bill.m3ter_id,
        external_id="",
        claimed_by=IntegrationRunFactory(integration=integration, bill=bill).pk,
        claimed_until=timezone.now() + datetime.timedelta(seconds=for_seconds),
    )


def test_a_run_waits_while_another_delivers_the_same_bill(paddle, integration):
    bill = bill_with_lines()
    claimed_delivery(integration, bill, for_seconds=0.3)
    run = IntegrationRunFactory(integration=integration, bill=bill)

    run_execute(run_id=run.pk)

    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    waited = run.log_entries.get(message__startswith="Waited")
    assert 0.2 <= waited.data["claim_wait_seconds"] < services.CLAIM_WAIT_SECONDS
    assert len(transactions(paddle)) == 1


def test_a_run_comes_back_later_when_another_holds_the_bill_too_long(
    paddle, integration, monkeypatch
):
    monkeypatch.setattr(execute, "CLAIM_WAIT_SECONDS", 0.2)
    bill = bill_with_lines()
    claimed_delivery(integration, bill, for_seconds=60)
    run = IntegrationRunFactory(integration=integration, bill=bill)

    run_execute(run_id=run.pk)

    run = refreshed(run)
    assert run.status == RunStatus.AWAITING_RETRY
    assert run.retry_count == 0
    assert "Another run is delivering this bill" in run.log_entries.last().message
    assert paddle.stats()["total"] == 0


def queries_to_deliver(integration, bill):
    run = IntegrationRunFactory(integration=integration, bill=bill)
    with CaptureQueriesContext(connection) as captured:
        run_execute(run_id=run.pk)
    assert refreshed(run).status == RunStatus.COMPLETE
    return len(captured)


def test_a_delivery_costs_the_same_queries_whatever_the_bill_size(paddle, integration):
    account = AccountFactory()
    queries_to_deliver(integration, bill_with_lines(account=account))  # customer, address made

    small = queries_to_deliver(integration, bill_with_lines(account=account))
    large = queries_to_deliver(integration, bill_with_lines(lines=100, account=account))

    assert small == large
    assert small <= 30


def test_a_delivery_whose_total_differs_says_so_on_the_run_log_run_page_and_bill_page(
    paddle, integration, send, viewer_client
):
    integration.excluded_line_item_types = ["MINIMUM_SPEND"]
    integration.save()
    bill = bill_with_lines("90.00", "10.00")
    LineItem.objects.filter(bill=bill, sequence=2).update(line_item_type="MINIMUM_SPEND")
    note = (
        "The Paddle invoice's total before tax is USD 90.00 and the bill's is USD 100.00: "
        "USD 10.00 less, because Excluded Line Item Types left out 1 Minimum spend line (10.00)."
    )

    (run,) = send(bill)

    (txn,) = transactions(paddle)
    assert txn["details"]["totals"]["subtotal"] == "9000"  # exactly the excluded line less
    assert run.status == RunStatus.COMPLETE and run.total_note == note
    assert Delivery.objects.get().total_note == note
    last = run.log_entries.last()
    assert last.message == f"Delivered: created Paddle transaction {txn['id']} (ready). {note}"
    assert last.level == "WARNING"
    run_page = viewer_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Delivered with a different total" in run_page and "USD 10.00 less" in run_page
    bill_page = viewer_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))
    assert "Different total" in bill_page.content.decode()
    assert "USD 10.00 less" in bill_page.content.decode()

    # A later run finding the bill unchanged still carries the note.
    queued = IntegrationRunFactory(integration=integration, bill=bill)
    run_execute(run_id=queued.pk)
    assert refreshed(queued).total_note == note


def test_a_delivery_with_the_bills_total_has_no_note(paddle, integration, send):
    (run,) = send(bill_with_lines("90.00", "10.00"))

    assert run.total_note == ""
    assert Delivery.objects.get().total_note == ""


def test_high_precision_values_are_rounded_and_the_run_log_says_which(paddle, integration, send):
    (run,) = send(bill_with_lines("12.3456", "1.00"))

    assert run.status == RunStatus.COMPLETE
    messages = [entry.message for entry in run.log_entries.all()]
    (note,) = [m for m in messages if m.startswith("High-precision values rounded")]
    assert "12.3456 → 12.35" in note
