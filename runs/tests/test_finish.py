"""How a failed delivery ends: each of Paddle's failures in its own status, retried or not."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from integrations.models import IntegrationConfiguration, IntegrationEvent, IntegrationEventName
from integrations.services import integration_enable
from m3terdata.models import LineItem
from m3terdata.tests.factories import AccountFactory
from paddle_destination.errors import NEEDED_PERMISSIONS
from runs.models import (
    AttemptOutcome,
    Delivery,
    RunStatus,
)
from runs.services import (
    run_execute,
    run_retry,
    runs_sweep,
)
from runs.tests.factories import (
    DeliveryFactory,
    IntegrationRunFactory,
    bill_with_lines,
    connected_integration,
)
from runs.tests.helpers import refreshed, sweep_when_due, transactions
from runs.tests.test_views import user_with

pytestmark = pytest.mark.django_db


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
    # Retry-After plus up to a tenth, counted from the 429 (the delivery before it takes time on
    # a busy machine).
    assert 7 <= wait <= 7.7 + (timezone.now() - before).total_seconds()
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


def test_a_key_without_business_write_fails_a_companys_delivery_naming_it(
    paddle, integration, send, api_key
):
    paddle.configure(
        key_permissions={api_key: [p for p in NEEDED_PERMISSIONS if not p.startswith("business.")]}
    )
    bill = bill_with_lines(account=AccountFactory(custom_fields={"companyName": "Initech"}))

    (run,) = send(bill)

    assert run.status == RunStatus.AUTH_FAILED
    assert "the key lacks the permission business.write for this request" in run.error_hint
    assert (
        "the permissions customer.read, customer.write, address.read, address.write, "
        "business.read, business.write, transaction.read, transaction.write, and replace it"
    ) in run.error_hint
    assert paddle.dump()["businesses"] == []


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


def test_the_credentials_health_follows_paddles_last_answer(paddle, integration, send, api_key):
    credential = integration.credential
    paddle.configure(revoked_keys=[api_key])
    send(bill_with_lines())

    credential.refresh_from_db()
    assert credential.last_test_ok is False
    assert "accepted" not in credential.last_test_message

    paddle.configure(revoked_keys=[])
    send(bill_with_lines())

    credential.refresh_from_db()
    assert credential.last_test_ok is True
    assert credential.last_test_message.startswith("Paddle accepted the key")


def test_a_malformed_key_saved_before_the_shape_check_fails_as_an_authentication_failure(
    paddle, send
):
    # Written straight to the database, as credentials were before the hub checked key shapes.
    integration = connected_integration(api_key="abc123", name="Old key")

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.AUTH_FAILED
    assert run.attempts.get().outcome == AttemptOutcome.AUTH_FAILED
    assert run.error == (
        "While creating the customer, Paddle answered 403 authentication_malformed: "
        "Authentication header included, but incorrectly formatted."
    )
    assert run.error_hint.startswith(
        "The credential's key is not shaped like a Paddle API key (a key saved before the hub "
        "checked keys"
    )
    assert "Update Credential" in run.error_hint
    credential = integration.credential
    credential.refresh_from_db()
    assert credential.last_test_ok is False
    assert credential.last_test_message == f"{run.error} {run.error_hint}"
    (event,) = IntegrationEvent.objects.all()
    assert (event.name, event.integration_id, event.run_id, event.message) == (
        IntegrationEventName.AUTHENTICATION,
        integration.pk,
        run.pk,
        run.error,
    )
    assert paddle.request_count("POST", "/transactions") == 0


def test_a_retry_after_an_attempt_that_never_reached_paddles_transactions_does_not_reconcile(
    paddle, integration, send
):
    paddle.push_fault("http_500", method="POST", path="/customers")

    (run,) = send(bill_with_lines())
    assert run.status == RunStatus.AWAITING_RETRY
    sweep_when_due()

    run = refreshed(run)
    assert run.status == RunStatus.COMPLETE
    assert run.attempts.last().request_summary["reconcile"] is False
    assert not any("may have created" in e.message for e in run.log_entries.all())
    assert paddle.request_count("GET", "/transactions") == 0
    assert len(transactions(paddle)) == 1


EVENTS = reverse("integrations:events")


def events_seen(client):
    """The events page (actioned ones too) as a person who follows them up sees it: each event's
    state and the line saying who actioned it, and the open count in the navigation."""
    html = client.get(EVENTS, {"show": "all"}).content.decode()
    items = re.findall(r'<li class="list-group-item" data-event="([^"]+)">(.*?)</li>', html, re.S)
    nav = re.search(r'data-testid="nav-open-events"[^>]*>(\d+)<', html)
    return [
        (
            name,
            re.search(r'data-testid="event-state">([^<]*)<', body).group(1),
            "by the hub (automatically" in body,
        )
        for name, body in items
    ], int(nav.group(1)) if nav else 0


@pytest.fixture
def watcher(client):
    client.force_login(user_with(["integrations.view_integrationevent"], "watcher"))
    return client


def test_a_bill_delivered_after_its_fix_has_its_open_events_actioned_by_the_hub(
    paddle, integration, send, inline, watcher
):
    fixed, still_wrong = bill_with_lines("10.00"), bill_with_lines("10.00")
    for bill in (fixed, still_wrong):
        bill.account.email = "not-an-email"
        bill.account.save()
    (failed,), _ = send(fixed), send(still_wrong)
    before = events_seen(watcher)
    fixed.account.email = "billing@example.com"
    fixed.account.save()

    with inline():
        run_retry(run=failed)

    assert refreshed(failed).status == RunStatus.COMPLETE  # the same run, retried
    validation = IntegrationEventName.VALIDATION.value
    assert before == ([(validation, "NOT ACTIONED", False)] * 2, 2)
    assert sorted(events_seen(watcher)[0]) == [
        (validation, "ACTIONED", True),
        (validation, "NOT ACTIONED", False),
    ]
    assert events_seen(watcher)[1] == 1
    assert IntegrationEvent.objects.get(entity_id=still_wrong.m3ter_id).state == "NOT_ACTIONED"


def test_a_delivery_after_the_key_is_fixed_actions_its_authentication_and_disabled_events(
    paddle, integration, send, api_key, settings, watcher
):
    settings.RUN_AUTH_FAILURES_BEFORE_DISABLE = 2
    paddle.configure(revoked_keys=[api_key])
    for _ in range(2):
        send(bill_with_lines())
    before = events_seen(watcher)
    paddle.configure(revoked_keys=[])  # the key works again (or a new one was attached)
    integration_enable(integration=IntegrationConfiguration.objects.get(pk=integration.pk))

    (run,) = send(bill_with_lines())

    assert run.status == RunStatus.COMPLETE
    assert sorted(before[0]) == [
        (IntegrationEventName.AUTHENTICATION.value, "NOT ACTIONED", False),
        (IntegrationEventName.AUTHENTICATION.value, "NOT ACTIONED", False),
        (IntegrationEventName.DISABLED.value, "NOT ACTIONED", False),
    ]
    assert before[1] == 3
    assert sorted(events_seen(watcher)[0]) == [
        (IntegrationEventName.AUTHENTICATION.value, "ACTIONED", True),
        (IntegrationEventName.AUTHENTICATION.value, "ACTIONED", True),
        (IntegrationEventName.DISABLED.value, "ACTIONED", True),
    ]
    assert events_seen(watcher)[1] == 0
