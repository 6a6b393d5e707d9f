"""Paddle's webhooks in: verified, stored, applied once, in order; refused when not Paddle's."""

import datetime
import json
import logging
import re
import socket
import time
from decimal import Decimal

import pytest
import requests
from django.urls import reverse

from m3terdata.models import Bill, LineItem
from paddle_destination.models import PaddleEvent, PaddleEventStatus
from paddle_destination.notifications import notifications_set_up
from paddle_destination.webhooks import paddle_events_prune
from runs.models import Delivery, IntegrationRun, InvoiceStatus, RunStatus
from runs.services import run_replay, runs_create_for_bill_event
from runs.tests.factories import DeliveryFactory, bill_with_lines, connected_integration
from standins.paddle import make_api_key
from standins.paddle.notifications import signature_header

pytestmark = pytest.mark.django_db

TXN = "txn_01hv8xxw3etar07vaxsqbyqasy"


@pytest.fixture
def delivery(integration):
    return DeliveryFactory(integration=integration, external_id=TXN)


def status_of(delivery):
    return Delivery.objects.get(pk=delivery.pk)


def test_issued_then_paid_is_recorded_with_number_and_times(webhooks, delivery):
    billed = webhooks.event(
        "transaction.billed", txn=TXN, status="billed", occurred_at="2026-12-01T10:00:00Z"
    )
    updated = webhooks.event(
        "transaction.updated",
        txn=TXN,
        status="billed",
        occurred_at="2026-12-01T10:00:01Z",
        invoice_number="325-10001",
    )
    paid = webhooks.event(
        "transaction.paid",
        txn=TXN,
        status="paid",
        occurred_at="2026-12-03T09:30:00Z",
        invoice_number="325-10001",
    )

    answers = [webhooks.post(e).status_code for e in (billed, updated)]
    issued = status_of(delivery)
    webhooks.post(paid)
    done = status_of(delivery)

    assert answers == [202, 202]
    assert (issued.invoice_status, issued.invoice_number) == (InvoiceStatus.BILLED, "325-10001")
    assert issued.issued_at.isoformat() == "2026-12-01T10:00:00+00:00"
    assert issued.paid_at is None
    assert done.invoice_status == InvoiceStatus.PAID
    assert done.paid_at.isoformat() == "2026-12-03T09:30:00+00:00"
    assert done.issued_at == issued.issued_at
    webhooks.sync.refresh_from_db()
    assert webhooks.sync.last_webhook_at is not None


def test_a_duplicate_changes_nothing_and_is_answered_ok(webhooks, delivery):
    paid = webhooks.event(
        "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
    )
    webhooks.post(paid)
    before = status_of(delivery)

    again = webhooks.post(paid)

    assert again.status_code == 200
    assert PaddleEvent.objects.count() == 1
    assert status_of(delivery).updated_at == before.updated_at


def test_out_of_order_events_change_nothing(webhooks, delivery):
    webhooks.post(
        webhooks.event(
            "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
        )
    )
    late_billed = webhooks.event(
        "transaction.billed", txn=TXN, status="billed", occurred_at="2026-12-01T10:00:00Z"
    )
    # Newer by its time, but a step back: Paddle never un-pays an invoice.
    stale_past_due = webhooks.event(
        "transaction.past_due", txn=TXN, status="past_due", occurred_at="2026-12-04T00:00:00Z"
    )

    webhooks.post(late_billed)
    webhooks.post(stale_past_due)

    after = status_of(delivery)
    assert after.invoice_status == InvoiceStatus.PAID
    assert after.invoice_status_at.isoformat() == "2026-12-03T09:30:00+00:00"
    assert set(PaddleEvent.objects.values_list("status", flat=True)) == {
        PaddleEventStatus.APPLIED,
        PaddleEventStatus.IGNORED,
    }


def test_an_event_paddle_delivers_again_after_it_was_pruned_changes_nothing(webhooks, delivery):
    paid = webhooks.event(
        "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
    )
    webhooks.post(paid)
    before = status_of(delivery)
    PaddleEvent.objects.update(received_at=before.updated_at - datetime.timedelta(days=31))
    pruned = paddle_events_prune(received_before=before.updated_at - datetime.timedelta(days=30))

    again = webhooks.post(paid)

    assert (pruned, again.status_code) == (1, 202)  # stored anew: the hub forgot it
    assert PaddleEvent.objects.get().status == PaddleEventStatus.IGNORED
    assert status_of(delivery).updated_at == before.updated_at


def test_a_canceled_draft_is_recorded(webhooks, delivery):
    webhooks.post(
        webhooks.event(
            "transaction.canceled", txn=TXN, status="canceled", occurred_at="2026-12-02T08:00:00Z"
        )
    )

    after = status_of(delivery)
    assert after.invoice_status == InvoiceStatus.CANCELED
    assert after.canceled_at.isoformat() == "2026-12-02T08:00:00+00:00"
    assert after.issued_at is None


def test_several_signatures_during_secret_rotation_are_accepted(webhooks, delivery):
    from standins.paddle.notifications import signature_header

    event = webhooks.event(
        "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
    )
    body = json.dumps(event).encode()
    ts = int(time.time())
    old = signature_header("pdl_ntfset_old", body, ts).split(";")[1]
    header = signature_header(webhooks.secret, body, ts) + ";" + old

    answer = webhooks.post(event, signature=header, body=body)

    assert answer.status_code == 202
    assert status_of(delivery).invoice_status == InvoiceStatus.PAID


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"secret": "pdl_ntfset_someone_else"}, id="wrong secret"),
        pytest.param({"timestamp": int(time.time()) - 3600}, id="stale"),
        pytest.param({"signature": "-"}, id="unsigned"),
        pytest.param({"signature": "ts=notanumber;h1=abc"}, id="malformed"),
        pytest.param({"signature": "ts=1;v9=abc"}, id="unknown scheme"),
    ],
)
def test_a_request_not_signed_by_paddle_changes_nothing(webhooks, delivery, forgery, caplog):
    event = webhooks.event(
        "transaction.paid",
        txn=TXN,
        status="paid",
        occurred_at="2026-12-03T09:30:00Z",
        invoice_number="SECRET-NUMBER-42",
    )

    with caplog.at_level(logging.WARNING):
        answer = webhooks.post(event, **forgery)

    assert answer.status_code == 401
    assert "Paddle-Signature" in answer.json()["error"]
    assert status_of(delivery).invoice_status == ""
    assert not PaddleEvent.objects.exists()
    assert "SECRET-NUMBER-42" not in caplog.text
    assert "body not logged" in caplog.text


def test_a_tampered_body_changes_nothing(webhooks, delivery):
    event = webhooks.event(
        "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
    )
    body = json.dumps(event).encode()
    signature = webhooks_signature(webhooks, body)
    tampered = body.replace(b'"paid"', b'"canceled"')

    answer = webhooks.post(event, signature=signature, body=tampered)

    assert answer.status_code == 401
    assert status_of(delivery).invoice_status == ""


def webhooks_signature(webhooks, body):
    from standins.paddle.notifications import signature_header

    return signature_header(webhooks.secret, body)


def test_unknown_endpoint_and_bad_json_get_a_clear_4xx(webhooks, client):
    missing = client.post(
        "/paddle/webhooks/00000000-0000-0000-0000-000000000000/",
        b"{}",
        content_type="application/json",
    )
    not_json = webhooks.post(None, body=b"not json")
    no_time = webhooks.post({"event_id": "evt_1", "event_type": "transaction.paid"})

    assert missing.status_code == 404
    assert (not_json.status_code, not_json.json()["error"]) == (400, "The body is not JSON.")
    assert no_time.status_code == 400 and "occurred_at" in no_time.json()["error"]


def test_events_of_other_transactions_and_types_are_ignored(webhooks, delivery):
    webhooks.post(
        webhooks.event(
            "transaction.paid", txn="txn_notours", status="paid", occurred_at="2026-12-03T09:30:00Z"
        )
    )
    webhooks.post(
        webhooks.event(
            "transaction.created", txn=TXN, status="draft", occurred_at="2026-12-03T09:30:00Z"
        )
    )

    assert status_of(delivery).invoice_status == ""
    assert set(PaddleEvent.objects.values_list("status", flat=True)) == {PaddleEventStatus.IGNORED}


def test_an_event_from_another_credentials_account_changes_nothing(webhooks, paddle):
    from runs.tests.factories import connected_integration

    elsewhere = DeliveryFactory(integration=connected_integration(), external_id=TXN)

    webhooks.post(
        webhooks.event(
            "transaction.paid", txn=TXN, status="paid", occurred_at="2026-12-03T09:30:00Z"
        )
    )

    assert status_of(elsewhere).invoice_status == ""


# The hub's own changes come back: real Paddle sends transaction.created and .updated for the
# transactions the hub creates and updates through the API.


def unreachable_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/nobody-listens/"


def recalculated(bill, subtotal):
    LineItem.objects.filter(bill=bill).update(subtotal=Decimal(subtotal))
    Bill.objects.filter(pk=bill.pk).update(content_hash=f"recalculated {subtotal}")
    bill.refresh_from_db()
    return bill


@pytest.mark.django_db(transaction=True)
def test_the_hubs_own_creates_and_updates_come_back_without_harm(
    live_server, settings, paddle, api_key
):
    """Through the live hub: the stand-in signs its webhooks and retries them as Paddle does."""
    settings.HUB_PUBLIC_URL = live_server.url
    integration = connected_integration(api_key=api_key)
    sync = notifications_set_up(credential=integration.credential)
    setting = paddle.notifications.get(sync.notification_setting_id)
    # A merchant may have subscribed the setting to transaction.created too; the hub ignores it.
    events = [e["name"] for e in setting["subscribed_events"]]
    paddle.notifications.update(
        setting["id"], {"subscribed_events": [*events, "transaction.created"]}
    )
    paddle.notifications.retry_delays = [1.0]
    bill = bill_with_lines("12.50")

    def delivery():
        return Delivery.objects.get(integration=integration, bill_m3ter_id=bill.m3ter_id)

    def send_and_hear():
        """A bill event, then every webhook it led to: the run, and the Paddle requests made
        meanwhile by anyone (the run's, and none for the webhooks)."""
        before = len(paddle.requests)
        (run,) = runs_create_for_bill_event(bill=bill)
        assert paddle.notifications.wait_sent()
        asked = [(r["method"], r["route"]) for r in paddle.requests[before:]]
        return IntegrationRun.objects.get(pk=run.pk), asked

    created, asked_to_create = send_and_hear()
    after_create = delivery()
    recalculated(bill, "20.00")
    updated, asked_to_update = send_and_hear()

    assert (created.status, updated.status) == (RunStatus.COMPLETE, RunStatus.COMPLETE)
    assert updated.external_id == created.external_id
    assert asked_to_create[-1] == ("POST", "/transactions")  # nothing asked after the create
    assert asked_to_update == [("PATCH", "/transactions/{transaction_id}")]
    assert after_create.invoice_status == ""  # transaction.created says nothing the hub uses
    assert delivery().invoice_status == InvoiceStatus.READY  # its own PATCH: still a draft
    by_type = dict(PaddleEvent.objects.values_list("event_type", "status"))
    assert by_type == {
        "transaction.created": PaddleEventStatus.IGNORED,
        "transaction.updated": PaddleEventStatus.APPLIED,
    }

    # The hub updates the draft once more, but that webhook misses the hub until after the
    # invoice is issued: the late news of a draft does not take the issued invoice back.
    paddle.notifications.update(setting["id"], {"destination": unreachable_url()})
    recalculated(bill, "30.00")
    (late,) = runs_create_for_bill_event(bill=bill)
    wait_for_attempts(paddle, 1)
    paddle.notifications.update(setting["id"], {"destination": sync.webhook_url})
    paddle.mark_transaction(created.external_id, "billed")
    assert paddle.notifications.wait_sent()

    attempts = [(d["event_type"], d["attempt"]) for d in paddle.notifications.sent()][-4:]
    assert attempts == [
        ("transaction.updated", 1),  # the hub's PATCH, missed
        ("transaction.billed", 1),
        ("transaction.updated", 1),  # with the invoice number
        ("transaction.updated", 2),  # the missed one again, now older news
    ]
    assert IntegrationRun.objects.get(pk=late.pk).status == RunStatus.COMPLETE
    issued = delivery()
    assert (issued.invoice_status, issued.invoice_number[:4]) == (InvoiceStatus.BILLED, "325-")
    assert PaddleEvent.objects.order_by("-pk").first().status == PaddleEventStatus.IGNORED

    # A recalculation of the issued bill asks Paddle nothing, so nothing comes back either.
    sent_before = len(paddle.notifications.sent())
    recalculated(bill, "40.00")
    refused, asked_when_issued = send_and_hear()

    assert refused.status == RunStatus.INVOICE_ALREADY_PAID
    assert asked_when_issued == []
    assert len(paddle.notifications.sent()) == sent_before
    assert delivery().invoice_status == InvoiceStatus.BILLED
    assert IntegrationRun.objects.filter(integration=integration).count() == 4  # one per event


def wait_for_attempts(paddle, failed: int) -> None:
    """Until the stand-in has failed to deliver `failed` webhooks."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answers = [d["status"] for d in paddle.notifications.sent()]
        if sum(not (isinstance(a, int) and 200 <= a < 300) for a in answers) >= failed:
            return
        time.sleep(0.05)
    raise AssertionError("the stand-in never tried the unreachable URL")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_credentials_of_one_paddle_account_each_hear_of_their_own_invoices(
    live_server, settings, paddle, client, admin_client
):
    """Two keys of one Paddle account, each with its notification setting: Paddle sends every
    event, with one event id, to both settings, and each credential applies its copy."""
    settings.HUB_PUBLIC_URL = live_server.url
    integrations = [connected_integration(api_key=make_api_key("sandbox")) for _ in range(2)]
    syncs = [notifications_set_up(credential=i.credential) for i in integrations]
    bill = bill_with_lines("12.50")
    runs = {run.integration_id: run for run in runs_create_for_bill_event(bill=bill)}
    assert paddle.notifications.wait_sent()  # the hub's own creates, heard and set aside
    txns = [IntegrationRun.objects.get(pk=runs[i.pk].pk).external_id for i in integrations]

    for txn in txns:
        for status in ("billed", "paid"):  # as the merchant does in Paddle's dashboard
            answer = requests.post(
                f"{paddle.url}/__standin/transactions/{txn}/mark", json={"status": status}
            )
            assert answer.status_code == 200, answer.text
    assert paddle.notifications.wait_sent()

    deliveries = [
        Delivery.objects.get(integration=i, bill_m3ter_id=bill.m3ter_id) for i in integrations
    ]
    assert [(d.external_id, d.invoice_status) for d in deliveries] == [
        (txn, InvoiceStatus.PAID) for txn in txns
    ]
    page = admin_client.get(reverse("m3terdata:bill_detail", args=[bill.m3ter_id]))
    badges = re.findall(r'data-testid="invoice-status"[^>]*>([^<]*)<', page.content.decode())
    assert len(badges) == 2 and all(" · paid " in badge for badge in badges), badges
    # Every event reached both credentials under the same id; each copy was stored for its own.
    by_credential = {
        sync.credential_id: set(
            PaddleEvent.objects.filter(credential_id=sync.credential_id).values_list(
                "event_id", flat=True
            )
        )
        for sync in syncs
    }
    first, second = by_credential.values()
    assert first == second and len(first) >= 6

    # Paddle delivers the second credential's copy of the paid event again: a duplicate.
    paid = PaddleEvent.objects.get(
        credential=integrations[1].credential, event_type="transaction.paid", transaction_id=txns[1]
    )
    body = json.dumps(
        {
            "event_id": paid.event_id,
            "event_type": paid.event_type,
            "occurred_at": paid.occurred_at.isoformat(),
            "data": paid.data,
        }
    ).encode()
    secret = paddle.notifications.get(syncs[1].notification_setting_id)["endpoint_secret_key"]
    stored_before = PaddleEvent.objects.count()
    again = client.post(
        reverse("paddle_destination:webhook", args=[integrations[1].credential.pk]),
        body,
        content_type="application/json",
        headers={"Paddle-Signature": signature_header(secret, body)},
    )
    assert again.status_code == 200
    assert PaddleEvent.objects.count() == stored_before
    assert Delivery.objects.get(pk=deliveries[1].pk).updated_at == deliveries[1].updated_at

    # The hub knows the second invoice is paid: a Replay leaves it alone and asks Paddle nothing.
    asked_before = len(paddle.requests)
    replay = run_replay(run=runs[integrations[1].pk])
    replay = IntegrationRun.objects.get(pk=replay.pk)
    assert replay.status == RunStatus.INVOICE_ALREADY_PAID
    assert "no longer lets it change" in replay.error
    assert len(paddle.requests) == asked_before
