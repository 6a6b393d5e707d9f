"""The stand-in's notification settings (through the official SDK) and the signed webhooks it
sends when a transaction moves on, retried while the receiver does not answer 2xx."""

import hmac
import json
import threading
from hashlib import sha256
from types import SimpleNamespace

import pytest
import requests
from paddle_billing.Entities.Events import EventTypeName
from paddle_billing.Entities.NotificationSettings import NotificationSettingType
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Notifications import Secret, Verifier
from paddle_billing.Resources.NotificationSettings.Operations import CreateNotificationSetting
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from standins.paddle import make_api_key
from standins.paddle.notifications import signature_header
from standins.paddle.pytest_plugin import draft_transaction

PRICE = {
    "description": "Usage",
    "name": "Usage",
    "unit_price": {"amount": "1250", "currency_code": "USD"},
    "product": {"name": "Usage", "tax_category": "standard"},
}
EVENTS = [EventTypeName.TransactionBilled, EventTypeName.TransactionUpdated,
          EventTypeName.TransactionPaid, EventTypeName.TransactionCanceled]  # fmt: skip


class Receiver:
    """A webhook endpoint that fails its first `failures` requests."""

    def __init__(self, failures=0):
        self.failures = failures
        self.received = []
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request):
        self.received.append(request)
        request.get_data()
        if len(self.received) <= self.failures:
            return Response("down", status=503)
        return Response("ok")

    def events(self):
        return [json.loads(r.get_data()) for r in self.received]

    def stop(self):
        self._server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def create_setting(client, url, events=EVENTS, **extra):
    return client.notification_settings.create(
        CreateNotificationSetting(
            description="hub",
            destination=url,
            subscribed_events=events,
            type=NotificationSettingType.Url,
            include_sensitive_fields=False,
            api_version=1,
            **extra,
        )
    )


def test_notification_settings_are_created_listed_and_deleted(paddle_client, paddle_standin):
    setting = create_setting(paddle_client, "https://hub.example.com/paddle/webhooks/1/")

    assert setting.endpoint_secret_key.startswith("pdl_ntfset_")
    assert (setting.active, setting.api_version, str(setting.type)) == (True, 1, "url")
    assert [str(e.name) for e in setting.subscribed_events] == [str(e) for e in EVENTS]
    assert [s.id for s in paddle_client.notification_settings.list()] == [setting.id]

    paddle_client.notification_settings.delete(setting.id)

    assert list(paddle_client.notification_settings.list()) == []
    with pytest.raises(ApiError) as missing:
        paddle_client.notification_settings.get(setting.id)
    assert missing.value.error_code == "not_found"


def test_a_setting_needs_a_url_destination(paddle_client):
    with pytest.raises(ApiError) as refused:
        create_setting(paddle_client, "not a url")

    assert refused.value.error_code == "invalid_field"
    assert refused.value.field_errors[0].field == "destination"


def test_issuing_sends_billed_then_updated_with_the_number_signed(
    paddle_client, paddle_standin, receiver
):
    setting = create_setting(paddle_client, receiver.url)
    txn = draft_transaction(paddle_standin)

    paddle_standin.mark_transaction(txn, "billed")
    assert paddle_standin.notifications.wait_sent()

    billed, updated = receiver.events()
    assert (billed["event_type"], billed["data"]["invoice_number"]) == ("transaction.billed", None)
    assert updated["event_type"] == "transaction.updated"
    assert updated["data"]["invoice_number"].startswith("325-")
    assert billed["data"]["id"] == updated["data"]["id"] == txn
    assert {"event_id", "occurred_at", "notification_id"} <= set(billed)
    verifier, secret = Verifier(), Secret(setting.endpoint_secret_key)
    for request in receiver.received:
        assert verifier.verify(
            SimpleNamespace(headers=request.headers, body=request.get_data()), secret
        )


def test_paid_canceled_and_overdue_send_their_events(paddle_client, paddle_standin, receiver):
    create_setting(paddle_client, receiver.url)
    paid, canceled = draft_transaction(paddle_standin), draft_transaction(paddle_standin)

    paddle_standin.mark_transaction(paid, "paid")
    paddle_standin.mark_transaction(canceled, "canceled")
    paddle_standin.mark_transaction(paid, "past_due")  # not subscribed: not sent
    assert paddle_standin.notifications.wait_sent()

    assert [(e["event_type"], e["data"]["status"]) for e in receiver.events()] == [
        ("transaction.paid", "paid"),
        ("transaction.canceled", "canceled"),
    ]


def test_a_webhook_is_retried_until_the_receiver_answers(paddle_client, paddle_standin):
    receiver = Receiver(failures=2)
    paddle_standin.notifications.retry_delays = [0.05, 0.05, 0.05]
    create_setting(paddle_client, receiver.url)
    txn = draft_transaction(paddle_standin)
    try:
        paddle_standin.mark_transaction(txn, "paid")
        assert paddle_standin.notifications.wait_sent()
    finally:
        receiver.stop()

    attempts = [(d["attempt"], d["status"]) for d in paddle_standin.notifications.sent()]
    assert attempts == [(1, 503), (2, 503), (3, 200)]


def test_an_inactive_setting_gets_nothing(paddle_standin, receiver, paddle_client):
    setting = create_setting(paddle_client, receiver.url)
    paddle_standin.notifications.update(setting.id, {"active": False})

    paddle_standin.mark_transaction(draft_transaction(paddle_standin), "paid")
    assert paddle_standin.notifications.wait_sent()

    assert receiver.received == []


def test_signature_header_is_paddles_scheme():
    header = signature_header("secret", b'{"a":1}', timestamp=1700000000)

    ts, h1 = header.split(";")
    assert ts == "ts=1700000000"
    # HMAC-SHA256 of "1700000000:{body}" with the secret, hex (as the SDK verifies it).
    assert h1 == "h1=" + hmac.new(b"secret", b'1700000000:{"a":1}', sha256).hexdigest()


def test_the_command_issues_and_pays_a_draft_in_a_running_stand_in(paddle_standin, capsys):
    from standins.paddle.__main__ import mark

    txn = draft_transaction(paddle_standin)

    issued = mark(["issue", txn, "--url", paddle_standin.url])
    paid = mark(["pay", txn, "--url", paddle_standin.url])
    missing = mark(["pay", "txn_unknown", "--url", paddle_standin.url])

    out = capsys.readouterr()
    assert (issued, paid, missing) == (0, 0, 1)
    assert f"{txn} is now billed, invoice 325-" in out.out
    assert f"{txn} is now paid" in out.out
    assert "not_found" in out.err
    assert paddle_standin.state.transactions[txn]["status"] == "paid"


def api(standin, method, path, body):
    """A request as a client of Paddle's API makes it (not the stand-in's admin endpoints)."""
    return requests.request(
        method,
        standin.url + path,
        json=body,
        headers={"Authorization": f"Bearer {make_api_key('sandbox')}"},
        timeout=5,
    )


def created_through_the_api(standin) -> dict:
    """A draft made with POST /transactions, for a customer of the stand-in's."""
    customer = standin.state.create_customer({"email": "api@example.com", "name": "API"})
    answer = api(
        standin,
        "POST",
        "/transactions",
        {
            "customer_id": customer["id"],
            "collection_mode": "manual",
            "currency_code": "USD",
            "billing_details": {"payment_terms": {"interval": "day", "frequency": 30}},
            "items": [{"quantity": 1, "price": PRICE}],
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def test_a_clients_own_create_and_update_send_created_and_updated_signed(
    paddle_client, paddle_standin, receiver
):
    both = create_setting(
        paddle_client,
        receiver.url,
        [EventTypeName.TransactionCreated, EventTypeName.TransactionUpdated],
    )
    updated_only = Receiver()
    create_setting(paddle_client, updated_only.url, [EventTypeName.TransactionUpdated])
    billed_only = Receiver()
    create_setting(paddle_client, billed_only.url, [EventTypeName.TransactionBilled])
    try:
        created = created_through_the_api(paddle_standin)
        items = [{"quantity": 1, "price": PRICE}, {"quantity": 2, "price": PRICE}]
        updated = api(paddle_standin, "PATCH", f"/transactions/{created['id']}", {"items": items})
        assert paddle_standin.notifications.wait_sent()
    finally:
        updated_only.stop()
        billed_only.stop()

    events = receiver.events()
    assert [(e["event_type"], e["data"]["id"]) for e in events] == [
        ("transaction.created", created["id"]),
        ("transaction.updated", created["id"]),
    ]
    assert events[0]["data"]["status"] == events[1]["data"]["status"] == "draft"
    assert len(events[1]["data"]["items"]) == len(updated.json()["data"]["items"]) == 2
    assert [e["event_type"] for e in updated_only.events()] == ["transaction.updated"]
    assert billed_only.received == []
    secret = Secret(both.endpoint_secret_key)
    for request in receiver.received:
        assert Verifier().verify(
            SimpleNamespace(headers=request.headers, body=request.get_data()), secret
        )


def test_a_refused_update_sends_nothing(paddle_client, paddle_standin, receiver):
    create_setting(paddle_client, receiver.url, [EventTypeName.TransactionUpdated])
    txn = draft_transaction(paddle_standin)
    paddle_standin.mark_transaction(txn, "billed")
    assert paddle_standin.notifications.wait_sent()
    sent = len(receiver.received)

    answer = api(
        paddle_standin,
        "PATCH",
        f"/transactions/{txn}",
        {"items": [{"quantity": 1, "price": PRICE}]},
    )
    assert paddle_standin.notifications.wait_sent()

    assert answer.json()["error"]["code"] == "transaction_immutable"
    assert len(receiver.received) == sent


def test_a_created_webhook_is_retried_like_any_other(paddle_client, paddle_standin):
    receiver = Receiver(failures=1)
    paddle_standin.notifications.retry_delays = [0.05]
    create_setting(paddle_client, receiver.url, [EventTypeName.TransactionCreated])
    try:
        created_through_the_api(paddle_standin)
        assert paddle_standin.notifications.wait_sent()
    finally:
        receiver.stop()

    attempts = [
        (d["event_type"], d["attempt"], d["status"]) for d in paddle_standin.notifications.sent()
    ]
    assert attempts == [("transaction.created", 1, 503), ("transaction.created", 2, 200)]
