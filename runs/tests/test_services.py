"""The run engine through the real SDK and the Paddle stand-in, with django-q2 running tasks
inline (Q_CLUSTER_SYNC): what a person reviewing runs would see after each kind of delivery."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.services import integration_disable
from m3terdata.factories import AccountFactory, BillFactory
from m3terdata.models import LineItem
from paddle_destination.tests import fixtures
from runs import services
from runs.services import execute
from runs.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    bill_with_lines,
    connected_integration,
)
from runs.models import (
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    RunStatus,
    RunTrigger,
)
from runs.services import (
    InvalidRunTransition,
    RunChanged,
    RunRefused,
    bill_send_again,
    run_execute,
    run_replay,
    run_retry,
    run_transition,
    runs_backfill,
    runs_create_for_bill_event,
    runs_sweep,
)

pytestmark = pytest.mark.django_db

# The stand-in with settings pointed at it, and the sandbox key it accepts.
paddle, api_key = fixtures.paddle, fixtures.api_key


@pytest.fixture
def integration(db, api_key):
    return connected_integration(api_key=api_key)


@pytest.fixture
def inline(django_capture_on_commit_callbacks):
    """Run what a block queues on commit: with Q_CLUSTER_SYNC the runs execute right there."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block


@pytest.fixture
def send(inline):
    """A bill event for `bill`, its runs executed; returns them fresh from the database."""

    def send_(bill):
        with inline():
            runs = runs_create_for_bill_event(bill=bill)
        return [IntegrationRun.objects.get(pk=run.pk) for run in runs]

    return send_


def sweep_when_due():
    """Let time pass until every waiting retry is due, then sweep (which executes them)."""
    now = timezone.now()
    IntegrationRun.objects.filter(next_attempt_at__isnull=False).update(
        queued_at=now - datetime.timedelta(minutes=2),
        next_attempt_at=now - datetime.timedelta(minutes=1),
    )
    return runs_sweep()


def transactions(paddle):
    return paddle.dump()["transactions"]


def refreshed(run):
    return IntegrationRun.objects.get(pk=run.pk)


# --- a delivery that works ----------------------------------------------------------------------


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


# --- failures, each in its own status -----------------------------------------------------------


def test_a_transient_failure_is_retried_with_backoff_and_delivers_once(
    paddle, integration, send, settings
):
    settings.RUN_RETRY_BASE_SECONDS = 40
    paddle.push_fault("http_500", method="POST", path="/transactions", status=503)
    before = timezone.now()

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.AWAITING_RETRY
    assert run.retry_count == 1
    assert "503 service_unavailable" in run.error and run.error_hint
    wait = (run.next_attempt_at - before).total_seconds()
    assert 20 <= wait <= 41  # half the 40 s step fixed, half random
    assert run.attempts.get().outcome == AttemptOutcome.TRANSIENT
    assert runs_sweep().enqueued == 0  # not due yet

    assert sweep_when_due().enqueued == 1

    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert len(transactions(paddle)) == 1
    assert [a.outcome for a in run.attempts.all()] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SUCCESS,
    ]


def test_a_write_whose_answer_was_dropped_is_found_not_made_again(paddle, integration, send):
    paddle.push_fault("drop_after_write", method="POST", path="/transactions")

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.AWAITING_RETRY
    (made,) = transactions(paddle)
    assert Delivery.objects.get().external_id == ""  # Paddle's answer never arrived

    sweep_when_due()

    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.external_id == made["id"]
    assert len(transactions(paddle)) == 1
    assert paddle.request_count("POST", "/transactions") == 1
    assert run.attempts.last().request_summary["reconcile"] is True
    assert any("may have created the transaction" in e.message for e in run.log_entries.all())


def test_transient_failures_end_in_error_after_the_last_attempt(
    paddle, integration, send, settings
):
    settings.RUN_MAX_ATTEMPTS = 3
    settings.RUN_RETRY_BASE_SECONDS = 10
    paddle.push_fault("http_500", method="POST", path="/transactions", times=None)

    (run,) = send(bill_with_lines())
    steps = [(run.status, run.next_attempt_at - run.updated_at)]
    for _ in range(2):
        sweep_when_due()
        run = refreshed(run)
        steps.append((run.status, run.next_attempt_at and run.next_attempt_at - run.updated_at))

    assert [status for status, _ in steps] == [
        RunStatus.AWAITING_RETRY,
        RunStatus.AWAITING_RETRY,
        RunStatus.ERROR,
    ]
    assert steps[1][1] > datetime.timedelta(seconds=10)  # the second wait is the doubled step
    assert run.error.endswith("Gave up after 3 attempts.")
    assert run.attempts.count() == 3
    assert run.dt_completed is not None
    assert transactions(paddle) == []
    assert sweep_when_due().enqueued == 0


def test_a_rate_limited_run_waits_for_retry_after(paddle, integration, send):
    paddle.push_fault("rate_limit", method="POST", path="/customers", retry_after=7)
    before = timezone.now()

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.RATE_LIMIT_RETRY
    assert (run.rate_limit_retry_count, run.retry_count) == (1, 0)
    wait = (run.next_attempt_at - before).total_seconds()
    assert 7 <= wait <= 8
    assert run.attempts.get().outcome == AttemptOutcome.RATE_LIMITED

    sweep_when_due()
    assert refreshed(run).status == RunStatus.COMPLETE


def test_authentication_failures_disable_the_integration_and_email_its_users(
    paddle, integration, send, api_key, settings
):
    settings.RUN_AUTH_FAILURES_BEFORE_DISABLE = 3
    integration.users_to_notify.add(
        User.objects.create(username="ops", email="ops@example.com"),
        User.objects.create(username="nomail", email=""),
    )
    paddle.configure(revoked_keys=[api_key])

    statuses = [send(bill_with_lines())[0].status for _ in range(3)]

    assert statuses == [RunStatus.AUTH_FAILED] * 3
    integration.refresh_from_db()
    assert integration.enabled is False
    assert "refused its credential 3 times in a row" in integration.disabled_reason
    (email,) = mail.outbox
    assert email.to == ["ops@example.com"]
    assert integration.name in email.subject and "Update Credential" in email.body

    # Runs already queued for the integration end DISABLED, with what to do.
    queued = IntegrationRunFactory(integration=integration, bill=bill_with_lines())
    run_execute(run_id=queued.pk)
    queued = refreshed(queued)
    assert queued.status == RunStatus.DISABLED
    assert "enable the integration" in queued.error_hint
    assert len(mail.outbox) == 1


def test_a_successful_delivery_resets_the_authentication_failure_count(
    paddle, integration, send, api_key
):
    paddle.configure(revoked_keys=[api_key])
    send(bill_with_lines())
    integration.refresh_from_db()
    assert integration.consecutive_auth_failures == 1

    paddle.configure(revoked_keys=[])
    send(bill_with_lines())

    integration.refresh_from_db()
    assert integration.consecutive_auth_failures == 0


@pytest.mark.parametrize(
    "case, outcome, error_part, hint_part",
    [
        ("invalid", AttemptOutcome.INVALID, "email", "Correct the data"),
        ("unsupported", AttemptOutcome.UNSUPPORTED, "negative", "Excluded Line Item Types"),
        ("no mapping", AttemptOutcome.INVALID, "no external mapping", "Create an external"),
        ("not found", AttemptOutcome.NOT_FOUND, "404", "points at the Paddle account"),
    ],
)
def test_a_refused_bill_ends_in_error_with_the_reason_and_what_to_do(
    paddle, integration, send, case, outcome, error_part, hint_part
):
    bill = bill_with_lines("10.00", "-1.00" if case == "unsupported" else "2.00")
    if case == "invalid":
        bill.account.email = "not-an-email"
        bill.account.save()
    if case == "no mapping":
        integration.use_external_mapping_account_code = True
        integration.save()
    if case == "not found":
        DeliveryFactory(
            integration=integration,
            bill_m3ter_id=bill.m3ter_id,
            external_id="txn_01h00000000000000000000000",
        )

    (run,) = send(bill)

    assert run.status == RunStatus.ERROR
    assert error_part.lower() in run.error.lower()
    assert hint_part.lower() in run.error_hint.lower()
    assert run.attempts.get().outcome == outcome
    assert paddle.request_count("POST", "/transactions") == 0
    assert Delivery.objects.get(bill_m3ter_id=bill.m3ter_id).claimed_by is None


def test_a_billed_invoice_is_left_untouched(paddle, integration, send):
    bill = bill_with_lines("12.50")
    (first,) = send(bill)
    paddle.mark_transaction(first.external_id, "billed")
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal("99.00"))
    bill.content_hash = "changed"
    bill.save()

    (run,) = send(bill)

    assert run.status == RunStatus.INVOICE_ALREADY_PAID
    assert "is billed in Paddle" in run.error
    assert run.attempts.get().outcome == AttemptOutcome.IMMUTABLE
    (txn,) = transactions(paddle)
    assert (txn["status"], txn["details"]["totals"]["subtotal"]) == ("billed", "1250")


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


# --- the claim, the sweep and exactly-once ------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands for the process dying: nothing in the engine catches it."""


def test_a_killed_worker_is_taken_back_by_the_sweep_and_reconciles(
    paddle, integration, monkeypatch
):
    run = IntegrationRunFactory(integration=integration, bill=bill_with_lines())

    def die(**kwargs):
        raise WorkerKilled

    # Paddle created the transaction; the worker dies before storing its id.
    with monkeypatch.context() as patch:
        patch.setattr(execute, "_delivery_store_transaction", die)
        with pytest.raises(WorkerKilled):
            run_execute(run_id=run.pk)

    (made,) = transactions(paddle)
    assert refreshed(run).status == RunStatus.STARTED
    assert Delivery.objects.get().external_id == ""
    assert runs_sweep().recovered == 0  # its lease has not lapsed yet

    IntegrationRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    result = runs_sweep()

    assert (result.recovered, result.enqueued) == (1, 1)
    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.external_id == made["id"]
    assert len(transactions(paddle)) == 1
    assert [a.outcome for a in run.attempts.all()] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SUCCESS,
    ]
    assert any("abandoned" in entry.message for entry in run.log_entries.all())


def test_a_run_abandoned_too_often_ends_timeout_limit_exceeded(integration, settings):
    settings.RUN_MAX_ATTEMPTS = 2
    run = IntegrationRunFactory(
        integration=integration,
        status=RunStatus.STARTED,
        attempt_count=2,
        retry_count=1,
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    assert runs_sweep().timed_out == 1

    run = refreshed(run)
    assert run.status == RunStatus.TIMEOUT_LIMIT_EXCEEDED
    assert "Q_CLUSTER timeout" in run.error_hint
    assert run.attempts.get().number == 2


def test_the_sweep_queues_each_due_retry_once_and_lost_runs_again(integration, monkeypatch):
    queued = []
    monkeypatch.setattr("runs.services.create.run_execution_enqueue", lambda *, run_id: queued.append(run_id))
    now = timezone.now()
    due = IntegrationRunFactory(
        integration=integration,
        status=RunStatus.AWAITING_RETRY,
        next_attempt_at=now - datetime.timedelta(seconds=5),
        queued_at=now - datetime.timedelta(minutes=5),
    )
    IntegrationRunFactory(
        integration=integration,
        status=RunStatus.RATE_LIMIT_RETRY,
        next_attempt_at=now + datetime.timedelta(seconds=30),
    )
    lost = IntegrationRunFactory(
        integration=integration, queued_at=now - datetime.timedelta(hours=1)
    )
    IntegrationRunFactory(integration=integration, queued_at=now)  # waiting in the queue

    assert runs_sweep().enqueued == 2
    assert set(queued) == {due.pk, lost.pk}
    assert runs_sweep().enqueued == 0


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


def test_a_run_whose_lease_lapsed_cannot_overwrite_what_happened_since(integration):
    run = IntegrationRunFactory(integration=integration, status=RunStatus.STARTED)
    stale = refreshed(run)
    run_transition(run=run, to=RunStatus.AWAITING_RETRY)

    with pytest.raises(RunChanged):
        run_transition(run=stale, to=RunStatus.COMPLETE)
    with pytest.raises(InvalidRunTransition, match="cannot go from Complete to Waiting"):
        run_transition(run=IntegrationRunFactory(complete=True), to=RunStatus.WAITING)


# --- what a person asks for ---------------------------------------------------------------------


def test_retry_sends_a_failed_run_again_with_fresh_attempts(
    paddle, integration, send, inline, settings
):
    settings.RUN_MAX_ATTEMPTS = 1
    paddle.push_fault("http_500", method="POST", path="/transactions")
    (run,) = send(bill_with_lines())
    assert run.status == RunStatus.ERROR

    with inline():
        retried = run_retry(run=run, user=User.objects.create(username="ana"))

    assert retried.pk == run.pk
    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.attempt_count == 2 and run.retry_count == 0
    assert any(e.message == "Retried by ana." for e in run.log_entries.all())
    assert len(transactions(paddle)) == 1


@pytest.mark.parametrize("status", [RunStatus.COMPLETE, RunStatus.STARTED, RunStatus.WAITING])
def test_retry_is_refused_unless_the_run_failed(integration, status):
    run = IntegrationRunFactory(integration=integration, status=status)
    with pytest.raises(RunRefused, match="Only a run that failed can be retried"):
        run_retry(run=run)


def test_replay_makes_a_new_linked_run_with_the_bills_current_data(
    paddle, integration, send, inline
):
    bill = bill_with_lines("12.50")
    (original,) = send(bill)
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal("20.00"))  # hash not changed

    with inline():
        replay = run_replay(run=original)

    replay = refreshed(replay)
    assert replay.pk != original.pk
    assert (replay.trigger, replay.replayed_from_id) == (RunTrigger.REPLAY, original.pk)
    assert replay.status == RunStatus.COMPLETE
    assert replay.external_id == original.external_id
    (txn,) = transactions(paddle)
    assert txn["details"]["totals"]["subtotal"] == "2000"


def test_replay_is_refused_once_the_integration_is_gone(integration):
    run = IntegrationRunFactory(
        integration=None, integration_name="Old", destination="PADDLE", complete=True
    )
    with pytest.raises(RunRefused, match="'Old' was deleted"):
        run_replay(run=run)


def test_send_again_sends_an_unchanged_bill_but_follows_the_rules(
    paddle, integration, send, inline
):
    bill = bill_with_lines()
    send(bill)
    disabled = connected_integration(name="Off")
    integration_disable(integration=disabled, reason="testing")

    with inline():
        runs = bill_send_again(bill=bill)

    (run,) = runs
    run = refreshed(run)
    assert (run.integration_id, run.trigger) == (integration.pk, RunTrigger.SEND_AGAIN)
    assert run.status == RunStatus.COMPLETE
    assert paddle.request_count("PATCH") == 1
    assert len(transactions(paddle)) == 1
    with pytest.raises(RunRefused, match="Not sent to 'Off': The integration is disabled"):
        bill_send_again(bill=bill, integration=disabled)


# --- backfill -----------------------------------------------------------------------------------


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
    assert "0 bills to send; 1 skipped: Only Send Bill On Approval" in (
        parent.log_entries.get().message
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
    with pytest.raises(RunRefused, match="is disabled; enable it"):
        runs_backfill(integration=integration, bill_job_id="job")


# --- cost ---------------------------------------------------------------------------------------


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


def test_a_backfill_costs_the_same_queries_for_more_bills(integration):
    def queries_for(job, count):
        for _ in range(count):
            BillFactory(bill_job_id=job)
        with CaptureQueriesContext(connection) as captured:
            runs_backfill(integration=integration, bill_job_id=job)
        return len(captured)

    # 30 runs fit in one INSERT even with SQLite's 999 parameters.
    assert queries_for("few", 2) == queries_for("more", 30)


def test_a_bill_event_costs_constant_queries_per_integration(integration):
    for _ in range(3):
        connected_integration()
    bill = bill_with_lines()
    with CaptureQueriesContext(connection) as captured:
        runs = runs_create_for_bill_event(bill=bill)
    assert len(runs) == 4
    assert len(captured) <= 2 + 2 * len(runs)


def test_the_sweep_costs_constant_queries_for_many_runs(integration, monkeypatch):
    monkeypatch.setattr("runs.services.create.run_execution_enqueue", lambda *, run_id: None)
    past = timezone.now() - datetime.timedelta(minutes=10)

    def queries_for(count):
        for _ in range(count):
            IntegrationRunFactory(
                integration=integration,
                status=RunStatus.STARTED,
                attempt_count=1,
                lease_expires_at=past,
            )
        with CaptureQueriesContext(connection) as captured:
            assert runs_sweep().recovered == count
        return len(captured)

    assert queries_for(2) == queries_for(30)
