"""m3ter's outgoing webhooks: POST /m3ter/webhooks/<connection id>/."""

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from m3terdata.models import Account, Bill
from m3terdata.tests.factories import AccountFactory, BillFactory
from m3tersync.models import InboundEvent, InboundEventStatus
from m3tersync.services import connection_update
from m3tersync.tests.signed import sign
from standins.m3ter.pytest_plugin import (
    WEBHOOK_API_KEY,
    WEBHOOK_SECRET,
    m3ter_account,
    m3ter_bill,
    m3ter_line_item,
)

pytestmark = pytest.mark.django_db


def event(entity, name="billing.bill.updated", event_id=None):
    """An m3ter event as the Events API shows them."""
    return {
        "id": event_id or str(uuid.uuid4()),
        "eventName": name,
        "eventTime": "2026-11-24T10:00:00.000Z",
        "m3terEvent": {"eventData": {"newDto": entity}},
    }


@pytest.fixture
def post(client, m3ter_connection, django_capture_on_commit_callbacks):
    """POST a body to the connection's webhook URL, signed as m3ter would unless told not to;
    the background processing runs (Q_CLUSTER_SYNC) when the request's transaction commits."""

    def send(body, *, connection=m3ter_connection, signed=True, headers=None, **sign_options):
        url = reverse("m3tersync:webhook", args=[connection.pk])
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = (
            sign(
                secret=WEBHOOK_SECRET,
                url=sign_options.pop("signed_url", f"http://testserver{url}"),
                api_key=WEBHOOK_API_KEY,
                body=raw,
                **sign_options,
            )
            if signed
            else {}
        )
        all_headers.update(headers or {})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=raw, content_type="application/json", headers=all_headers)

    return send


@pytest.fixture
def account():
    return AccountFactory()


def a_bill(account, **overrides):
    return {
        "id": str(uuid.uuid4()),
        "version": 1,
        **m3ter_bill({"id": account.m3ter_id, "code": account.code}),
        **overrides,
    }


def test_a_signed_bill_event_is_accepted_at_once_and_stored_as_a_bill_event(post, account):
    bill = a_bill(account)

    response = post(event(bill, name="billing.bill.created"))

    assert response.status_code == 202
    stored = InboundEvent.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == InboundEventStatus.RECEIVED
    assert stored.status == InboundEventStatus.PROCESSED, stored.outcome
    assert "bill event" in stored.outcome
    assert (stored.event_name, stored.entity_id, stored.entity_version) == (
        "billing.bill.created",
        bill["id"],
        1,
    )
    assert Bill.objects.get(m3ter_id=bill["id"]).line_items.get().subtotal == Decimal("125.5")


def test_a_bill_event_without_line_items_fetches_the_bill_from_m3ter(post, m3ter_standin, account):
    m3ter_standin.put_account({**m3ter_account(), "id": account.m3ter_id})
    in_m3ter = m3ter_standin.put_bill(
        m3ter_bill(
            {"id": account.m3ter_id, "code": account.code},
            lineItems=[m3ter_line_item(subtotal=10), m3ter_line_item(subtotal=20)],
        )
    )
    summary = {key: value for key, value in in_m3ter.items() if key != "lineItems"}

    post(event(summary))

    bill = Bill.objects.get(m3ter_id=in_m3ter["id"])
    assert [item.subtotal for item in bill.line_items.all()] == [Decimal("10"), Decimal("20")]
    assert m3ter_standin.request_count("list_bills") == 1


def test_a_bill_of_an_account_not_in_the_mirror_brings_its_account(post, m3ter_standin):
    account = m3ter_standin.put_account(m3ter_account())
    bill = {"id": str(uuid.uuid4()), "version": 1, **m3ter_bill(account)}

    post(event(bill))

    assert Bill.objects.get(m3ter_id=bill["id"]).account.code == account["code"]


def test_the_same_event_delivered_twice_is_recorded_as_ignored(post, account):
    body = event(a_bill(account))

    post(body)
    again = post(body)

    assert again.status_code == 202
    duplicate = InboundEvent.objects.get(pk=again.json()["id"])
    assert duplicate.status == InboundEventStatus.IGNORED
    assert "Duplicate delivery" in duplicate.outcome
    assert Bill.objects.count() == 1


def test_a_version_already_stored_is_recorded_as_ignored(post, account):
    bill = BillFactory(account=account, version=3)

    response = post(event(a_bill(account, id=bill.m3ter_id, version=3)))

    ignored = InboundEvent.objects.get(pk=response.json()["id"])
    assert ignored.status == InboundEventStatus.IGNORED
    assert f"bill {bill.m3ter_id} version 3 is already stored" in ignored.outcome


def test_an_older_version_arriving_late_is_ignored(post, account):
    bill = BillFactory(account=account, version=3, currency="USD")

    response = post(event(a_bill(account, id=bill.m3ter_id, version=2, currency="EUR")))

    ignored = InboundEvent.objects.get(pk=response.json()["id"])
    assert ignored.status == InboundEventStatus.IGNORED
    assert (
        "Out of order" in ignored.outcome and "older than the stored version 3" in ignored.outcome
    )
    bill.refresh_from_db()
    assert (bill.version, bill.currency) == (3, "USD")


def test_a_newer_version_updates_the_bill(post, account):
    bill = BillFactory(account=account, version=1)

    post(event(a_bill(account, id=bill.m3ter_id, version=2, status="APPROVED")))

    bill.refresh_from_db()
    assert (bill.version, bill.status) == (2, "APPROVED")


def test_account_events_update_the_account_and_ignore_older_versions(post, account):
    Account.objects.filter(pk=account.pk).update(version=2)
    renamed = {**m3ter_account(code=account.code), "id": account.m3ter_id, "version": 3}
    stale = {**renamed, "version": 1, "name": "Old name"}

    post(event({**renamed, "name": "New name"}, name="configuration.account.updated"))
    late = post(event(stale, name="configuration.account.updated"))

    account.refresh_from_db()
    assert (account.name, account.version) == ("New name", 3)
    assert InboundEvent.objects.get(pk=late.json()["id"]).status == InboundEventStatus.IGNORED


def test_events_the_hub_does_not_use_are_acknowledged_and_ignored(post, account):
    response = post(event(a_bill(account), name="billing.bill.deleted"))

    assert response.status_code == 202
    assert InboundEvent.objects.get().status == InboundEventStatus.IGNORED
    assert not Bill.objects.exists()


def test_an_unsigned_request_is_refused_and_not_stored(post, account):
    response = post(event(a_bill(account)), signed=False)

    assert response.status_code == 401
    assert "Unsigned request" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_stale_request_is_refused(post, account):
    response = post(event(a_bill(account)), timestamp=str(int(time.time()) - 600))

    assert response.status_code == 403
    assert "Stale request" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_tampered_request_is_refused(post, account, m3ter_connection):
    body = json.dumps(event(a_bill(account))).encode()
    url = reverse("m3tersync:webhook", args=[m3ter_connection.pk])
    headers = sign(
        secret=WEBHOOK_SECRET, url=f"http://testserver{url}", api_key=WEBHOOK_API_KEY, body=body
    )

    response = post(body.replace(b"125.5", b"1.5"), signed=False, headers=headers)

    assert response.status_code == 403
    assert "does not match" in response.json()["error"]
    assert not Bill.objects.exists()


def test_behind_a_proxy_the_public_url_is_what_is_signed(post, account, settings, m3ter_connection):
    settings.M3TER_WEBHOOK_BASE_URL = "https://hub.example.com/"
    body = event(a_bill(account))
    public = "https://hub.example.com" + reverse("m3tersync:webhook", args=[m3ter_connection.pk])

    assert post(body).status_code == 403  # signed for http://testserver/…
    assert post(body, signed_url=public).status_code == 202


def test_a_webhook_for_an_unknown_or_closed_connection_is_404(post, account, m3ter_connection):
    from m3tersync.services import connection_create

    without_credentials = connection_create(
        name="No webhooks", org_id="o", api_key_id="k", api_secret="s"
    )

    assert post(event(a_bill(account)), connection=without_credentials).status_code == 404
    connection_update(connection=m3ter_connection, enabled=False)
    assert post(event(a_bill(account))).status_code == 404


def test_a_body_that_is_not_an_m3ter_event_is_refused_with_400(post):
    assert post(b"not json").status_code == 400
    no_name = post({"id": "x"})
    assert no_name.status_code == 400 and "eventName" in no_name.json()["error"]
    no_entity = post({"eventName": "billing.bill.updated"})
    assert no_entity.status_code == 400 and "no entity" in no_entity.json()["error"]
    no_id = post({"eventName": "billing.bill.updated", "entity": {"version": 2}})
    assert no_id.status_code == 400 and "with an id" in no_id.json()["error"]


def test_only_post_is_answered(client, m3ter_connection):
    response = client.get(reverse("m3tersync:webhook", args=[m3ter_connection.pk]))
    assert response.status_code == 405


def test_when_m3ter_cannot_be_reached_the_event_fails_saying_the_pull_will_catch_up(
    post, m3ter_standin, account, settings
):
    settings.M3TER_MAX_RETRIES = 0
    m3ter_standin.push_fault("http_500", path="/organizations", times=None)
    summary = {key: value for key, value in a_bill(account).items() if key != "lineItems"}

    response = post(event(summary))

    failed = InboundEvent.objects.get(pk=response.json()["id"])
    assert response.status_code == 202
    assert failed.status == InboundEventStatus.FAILED
    assert "server error (500)" in failed.outcome and "next pull" in failed.outcome
